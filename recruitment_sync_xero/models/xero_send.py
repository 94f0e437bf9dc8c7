"""Talking to Xero in batches: one request per batch, its answers paired with what was sent, and
what Xero already has (statuses, documents an earlier attempt created, contacts of the same name)."""

from odoo import _, models

from odoo.addons.recruitment_sync.services import money
from odoo.addons.recruitment_sync.services.binder import Binder
from odoo.addons.recruitment_sync.services.http_client import AuthError, RetryableError, SyncError
from odoo.addons.recruitment_sync.services.partners import normalized_email, normalized_vat

from ..services import xero
from .xero_export import INVOICE_DOC
from .xero_import import CONTACT

IDS_PER_QUERY = 40  # Xero's IDs filter tops out around 50 GUIDs (URL length) [R]


def echoed(field):
    """The key a sent or answered element carries in ``field`` (Binder.pair)."""
    return lambda element: element.get(field) if isinstance(element, dict) else None


class RecruitmentSyncXeroSend(models.AbstractModel):
    """Batch writes and the reads that make them exactly-once (mixed into ``recruitment.sync.integration``)."""

    _name = "recruitment.sync.xero.send"
    _description = "Xero exports: batch writes"

    # ------------------------------------------------------------------------ batches
    def _xero_key_prefix(self):
        uuid = self._database_uuid()
        return f"odoo-{uuid[:8]}-{self.id}"

    def _xero_send(self, client, method, path, key, elements, params=None):
        """One batch write; Xero's answer elements (``summarizeErrors=false``: one per element)."""
        body = {key: elements}
        headers = {"Idempotency-Key": xero.idempotency_key(self._xero_key_prefix(), method, path, body)}
        answer = client.request(
            method, path, params={"summarizeErrors": "false", **(params or {})}, json=body, headers=headers
        )
        return (answer or {}).get(key) or []

    def _xero_send_batch(self, client, method, path, key, prepared, number_key=None, params=None):
        """Send ``prepared`` [(payload, context)]; yield (context, answer element, error message).

        A refusal of the request as a whole (not a rate limit, not the credentials) fails each
        of its elements with Xero's message; rate limits and auth problems stop the batch.
        """
        if not prepared:
            return
        payloads = [payload for payload, _context in prepared]
        try:
            answered = self._xero_send(client, method, path, key, payloads, params)
        except (RetryableError, AuthError):
            raise
        except SyncError as error:
            for _payload, context in prepared:
                yield context, None, str(error)
            return
        paired = Binder.pair(payloads, answered, echoed(number_key) if number_key else None)
        for (_payload, context), element in zip(prepared, paired, strict=True):
            if element is None:
                yield context, None, _("Xero's answer did not include this element: check it in Xero.")
                continue
            errors = xero.element_errors(element)
            yield context, element, "; ".join(errors) if errors else None

    # ------------------------------------------------------------------------ what Xero already has
    def _xero_current_statuses(self, client, doc, xero_ids):
        """Xero's status of exported documents, read in chunks (IDs for invoices, a filter for credit notes).

        ({xero id: status}, {xero id: error}): a chunk Xero refuses to read fails its documents
        only (rate limits and credentials still stop the batch).
        """
        statuses, errors = {}, {}
        for start in range(0, len(xero_ids), IDS_PER_QUERY):
            chunk = xero_ids[start : start + IDS_PER_QUERY]
            if doc is INVOICE_DOC:
                params = {"IDs": ",".join(chunk)}
            else:  # GET /CreditNotes has no IDs parameter
                params = {"where": " OR ".join(f'{doc.id_field}==Guid("{xero_id}")' for xero_id in chunk)}
            try:
                answer = client.get(doc.endpoint, params=params) or {}
            except (RetryableError, AuthError):
                raise
            except SyncError as error:
                errors.update(dict.fromkeys(chunk, str(error)))
                continue
            for element in answer.get(doc.endpoint) or ():
                if isinstance(element, dict) and element.get(doc.id_field):
                    statuses[element[doc.id_field]] = element.get("Status")
        return statuses, errors

    def _xero_earlier_attempts(self, client, doc, results):
        """Invoices refused as duplicates that an earlier attempt of ours created: {move id: element}.

        An Idempotency-Key is only kept for a while: a retry after a long pause may see
        "Invoice # must be unique" for an invoice its first attempt did create. The invoice
        with that number is ours when it has the same customer, total and currency.
        """
        if doc is not INVOICE_DOC:
            return {}
        duplicates = {
            move.name: (move, element)
            for (move, binding, _version), element, error in results
            if error and not binding and "unique" in error.lower()
        }
        found = {}
        names = sorted(duplicates)
        for start in range(0, len(names), IDS_PER_QUERY):
            chunk = names[start : start + IDS_PER_QUERY]
            try:
                answer = client.get(doc.endpoint, params={"InvoiceNumbers": ",".join(chunk)}) or {}
            except (RetryableError, AuthError):
                raise
            except SyncError:
                continue  # not found out: these stay failed with Xero's refusal
            for element in answer.get(doc.endpoint) or ():
                if isinstance(element, dict) and element.get(doc.number_field) in duplicates:
                    found[element[doc.number_field]] = element
        earlier = {}
        customers = self.env["res.partner"].browse({duplicates[name][0].commercial_partner_id.id for name in found})
        contacts = self._binder(CONTACT).bindings_of(customers)
        for name, element in found.items():
            move, _sent = duplicates[name]
            contact = contacts.get(move.commercial_partner_id.id)
            same = (
                element.get("Type") == doc.xero_type
                and contact
                and (element.get("Contact") or {}).get("ContactID") == contact.external_id
                and element.get("CurrencyCode") in (None, move.currency_id.name)
                and element.get("Total") is not None
                and money.round_money(element["Total"]) == money.round_money(move.amount_total)
                and element.get("Status") not in ("DELETED", "VOIDED")
            )
            if same:
                earlier[move.id] = element
        return earlier

    def _xero_contacts_named(self, client, partners):
        """{partner id: Xero contacts of exactly its name (any status, customers or not)} or the lookup's error."""
        found = {}
        for partner in partners:
            name = partner.name.strip()
            try:
                answer = client.get(
                    "Contacts", params={"searchTerm": name, "includeArchived": "true", "page": 1, "pageSize": 100}
                )
            except (RetryableError, AuthError):
                raise
            except SyncError as error:
                found[partner.id] = error  # this customer fails, not the batch
                continue
            found[partner.id] = [
                contact
                for contact in (answer or {}).get("Contacts") or ()
                if isinstance(contact, dict)
                and contact.get("ContactID")
                and (contact.get("Name") or "").strip().casefold() == name.casefold()
            ]
        return found

    def _xero_same_customer(self, partner, contacts, error):
        """(the Xero contact that is ``partner``, reason) or (None, why not): same VAT or email, or only the name
        when nothing contradicts; never a contact bound to another partner or coded for another one."""
        if isinstance(contacts, SyncError):
            reason = _(
                "%(error)s The contact of that name could not be looked up: %(lookup)s", error=error, lookup=contacts
            )
            return None, reason
        if not contacts:
            return None, _("%s Xero did not list a contact of that name: check it in Xero, then sync again.", error)
        bound = self._binder(CONTACT).bindings_for("res.partner", [contact["ContactID"] for contact in contacts])
        uuid = self._database_uuid()
        vat, email = normalized_vat(partner.vat), normalized_email(partner.email)
        refusals = []
        for contact in sorted(contacts, key=lambda contact: contact.get("ContactStatus") != "ACTIVE"):
            their_vat = normalized_vat(contact.get("TaxNumber"))
            their_email = normalized_email(contact.get("EmailAddress"))
            coded_for = xero.partner_id_from_contact_number(contact.get("ContactNumber"), uuid)
            why = self._partner_contradiction(
                partner, bound.get(contact["ContactID"]), coded_for, _("Contact Code"), their_vat, their_email
            )
            if not why:
                if (vat and vat == their_vat) or (email and email == their_email):
                    rule = _("VAT number") if vat and vat == their_vat else _("email")
                    reason = _("Already in Xero under this name, with the same %s: linked to it.", rule)
                else:
                    reason = _("Already in Xero under this name, nothing contradicting: linked to it.")
                return contact, reason
            refusals.append(
                _(
                    "Xero's contact “%(name)s” (ContactID %(id)s): %(why)s",
                    name=contact.get("Name"),
                    id=contact["ContactID"],
                    why=why,
                )
            )
        return None, _(
            "Xero already has a contact named “%(name)s” that is not the Odoo partner %(partner)s (id %(id)s): "
            "%(refusals)s. Rename one of them (or correct the VAT number or email), then sync again.",
            name=partner.name,
            partner=partner.display_name,
            id=partner.id,
            refusals="; ".join(refusals),
        )
