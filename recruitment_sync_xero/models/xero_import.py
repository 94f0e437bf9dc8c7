"""From Xero: tax rates and accounts (mapping tables) and customers (res.partner)."""

from datetime import datetime, timedelta

from odoo import _, models

from odoo.addons.recruitment_sync.models.recruitment_sync_binding import IMPORT_CONTEXT
from odoo.addons.recruitment_sync.services.provider import Batch, ItemResult

from ..services import xero
from .xero_mapping import account_values, tax_rate_values

# Re-read this much before the watermark: a clock skew between Xero and us loses nothing [I].
OVERLAP = timedelta(minutes=2)
CONTACT = "contact"  # binding type of Xero contacts (res.partner)


def normalized_vat(value):
    return "".join(str(value or "").split()).upper()


def normalized_email(value):
    return str(value or "").strip().lower()


class RecruitmentSyncXeroImport(models.AbstractModel):
    """From Xero, on a Xero integration (mixed into ``recruitment.sync.integration``)."""

    _name = "recruitment.sync.xero.import"
    _description = "Xero imports"

    # ------------------------------------------------------------------------ identity
    def _xero_database_uuid(self):
        return self.env["ir.config_parameter"].sudo().get_param("database.uuid") or ""

    def _xero_own_partners(self):
        """The partners of Odoo's companies: never bound to a Xero customer."""
        return self.env["res.company"].sudo().with_context(active_test=False).search([]).partner_id

    # ------------------------------------------------------------------------ counts
    def _xero_import_count(self, kind):
        client = self._xero_client()
        if kind.code == xero.TAX_RATES.code:
            return len((client.get("TaxRates") or {}).get("TaxRates") or [])
        if kind.code == xero.ACCOUNTS.code:
            return len((client.get("Accounts") or {}).get("Accounts") or [])
        params, headers = self._xero_contact_query((self.sync_checkpoint or {}).get(xero.CUSTOMERS.code))
        params = {**params, "page": 1, "pageSize": 1, "where": "IsCustomer==true"}
        answer = client.get("Contacts", params=params, headers=headers) or {}
        pagination = answer.get("pagination") or {}
        if "itemCount" in pagination:
            return pagination["itemCount"]
        return None

    # ------------------------------------------------------------------------ fetching
    def _xero_fetch_import(self, kind, checkpoint, batch_size):
        client = self._xero_client()
        if kind.code == xero.TAX_RATES.code:
            return Batch(items=(client.get("TaxRates") or {}).get("TaxRates") or [], checkpoint=None, done=True)
        if kind.code == xero.ACCOUNTS.code:
            return Batch(items=(client.get("Accounts") or {}).get("Accounts") or [], checkpoint=None, done=True)
        return self._xero_fetch_contacts(client, checkpoint, batch_size)

    def _xero_contact_query(self, checkpoint):
        """Query parameters and headers of a pass over the contacts changed since the watermark."""
        checkpoint = checkpoint or {}
        since = checkpoint.get("since")
        if not since and checkpoint.get("watermark"):
            since = xero.format_if_modified_since(datetime.fromisoformat(checkpoint["watermark"]) - OVERLAP)
        # Oldest change first: a contact changed during the pass moves to the end, not out of it.
        params = {"includeArchived": "true", "order": "UpdatedDateUTC ASC"}
        return params, ({"If-Modified-Since": since} if since else {})

    def _xero_fetch_contacts(self, client, checkpoint, batch_size):
        checkpoint = dict(checkpoint or {})
        params, headers = self._xero_contact_query(checkpoint)
        page_size = max(1, min(batch_size, xero.MAX_PAGE_SIZE))
        page = checkpoint.get("page", 1)
        answer = client.get("Contacts", params={**params, "page": page, "pageSize": page_size}, headers=headers) or {}
        contacts = [contact for contact in answer.get("Contacts") or [] if isinstance(contact, dict)]
        highest = checkpoint.get("pass_highest")
        for contact in contacts:
            try:
                stamp = xero.parse_datetime(contact.get("UpdatedDateUTC"), "UpdatedDateUTC")
            except xero.PayloadError:
                continue
            if stamp:
                highest = max(highest or stamp.isoformat(), stamp.isoformat())
        page_count = (answer.get("pagination") or {}).get("pageCount")
        done = len(contacts) < page_size or (page_count is not None and page >= page_count)
        if done:
            next_checkpoint = {"watermark": highest or checkpoint.get("watermark")}
        else:
            next_checkpoint = {
                "since": headers.get("If-Modified-Since"),
                "page": page + 1,
                "pass_highest": highest,
                "watermark": checkpoint.get("watermark"),
            }
        customers = [contact for contact in contacts if contact.get("IsCustomer")]
        return Batch(items=customers, checkpoint=next_checkpoint, done=done)

    # ------------------------------------------------------------------------ tax rates, accounts
    def _xero_import_mapping_rows(self, run, kind, items):
        """Upsert the mapping rows of a kind; then map what is unambiguous."""
        if kind.code == xero.TAX_RATES.code:
            Model, key, values_of = self.env["recruitment.sync.xero.tax.rate"].sudo(), "tax_type", tax_rate_values
        else:
            Model, key, values_of = self.env["recruitment.sync.xero.account"].sudo(), "xero_id", account_values
        existing = {row[key]: row for row in Model.search([("integration_id", "=", self.id)])}

        def upsert(run_, kind_, payload):
            values = values_of(payload)
            row = existing.get(values[key])
            if not row:
                row = Model.create({**values, "integration_id": self.id})
                existing[values[key]] = row
                return ItemResult("created", row, values[key])
            changed = {name: value for name, value in values.items() if row[name] != value}
            if not changed:
                return ItemResult("unchanged", row, values[key])
            row.write(changed)
            return ItemResult("updated", row, values[key])

        for payload in items:
            run._process_item(kind, payload, upsert)
        Model.browse([row.id for row in existing.values()])._auto_match()

    # ------------------------------------------------------------------------ customers
    def _xero_prefetch_partners(self, contacts):
        """Everything the matching rules need for a page of contacts, in a few queries."""
        binder = self._binder(CONTACT)
        bindings = binder.bindings_for("res.partner", [c.get("ContactID") for c in contacts])
        Partner = self.env["res.partner"].sudo().with_context(active_test=False)
        base = [("parent_id", "=", False), ("company_id", "in", [False, self.company_id.id])]
        numbers = {str(c.get("ContactNumber")).strip() for c in contacts if c.get("ContactNumber")}
        vats = {normalized_vat(c.get("TaxNumber")) for c in contacts if c.get("TaxNumber")}
        emails = {normalized_email(c.get("EmailAddress")) for c in contacts if c.get("EmailAddress")}
        names = {c.get("Name") for c in contacts if c.get("Name")}
        uuid = self._xero_database_uuid()
        ids = {xero.partner_id_from_contact_number(number, uuid) for number in numbers} - {None}
        candidates = Partner.browse()
        for field, wanted in (("id", ids), ("ref", numbers), ("name", names), ("email_normalized", emails)):
            if wanted:
                candidates |= Partner.search(base + [(field, "in", list(wanted))])
        if vats:
            # VAT numbers are stored as typed (spaces, case): compare them normalized.
            Partner.flush_model(["vat"])
            self.env.cr.execute(
                "SELECT id FROM res_partner WHERE upper(regexp_replace(vat, '\\s', '', 'g')) IN %s", [tuple(vats)]
            )
            candidates |= Partner.search(base + [("id", "in", [row[0] for row in self.env.cr.fetchall()])])
        candidates -= self._xero_own_partners()  # the company is never one of its customers
        bound_to = binder.external_ids(candidates)
        return {"bindings": bindings, "candidates": candidates, "bound_to": bound_to}

    def _xero_match_partner(self, contact, prefetched):
        """The one Odoo partner a new Xero contact is, by the first rule that finds any: (partner, rule).

        Rules in order: Contact Code (our reference or partner id), VAT number, email, exact
        name. Partners bound to another Xero contact are not candidates. When a rule finds
        several partners the contact is refused with their names: never a guess.
        """
        candidates = prefetched["candidates"].filtered(
            lambda partner: prefetched["bound_to"].get(partner.id) in (None, contact.get("ContactID"))
        )
        number = str(contact.get("ContactNumber") or "").strip()
        vat = normalized_vat(contact.get("TaxNumber"))
        email = normalized_email(contact.get("EmailAddress"))
        name = contact.get("Name")
        partner_id = xero.partner_id_from_contact_number(number, self._xero_database_uuid())
        # Another database's code (or the old ODOO-RP-<id>) names nobody here, not even by reference.
        own_code = number and not xero.is_connector_contact_number(number)
        rules = (
            (
                _("Contact Code"),
                lambda p: (partner_id and p.id == partner_id) or (own_code and (p.ref or "").strip() == number),
            ),
            (_("VAT number"), lambda p: vat and normalized_vat(p.vat) == vat),
            (_("email"), lambda p: email and (p.email_normalized or normalized_email(p.email)) == email),
            (_("name"), lambda p: name and p.name == name),
        )
        for rule, matches in rules:
            found = candidates.filtered(matches)
            if len(found) == 1:
                return found, rule
            if found:
                raise xero.PayloadError(
                    _(
                        "The Xero contact matches %(count)s Odoo partners by %(rule)s: %(partners)s. None was "
                        "chosen: set the Xero Contact Code (%(code)s) as the Reference of the right partner, or "
                        "merge the duplicates, then sync again.",
                        count=len(found),
                        rule=rule,
                        partners=", ".join(f"{p.display_name} (id {p.id})" for p in found[:10]),
                        code=number or "-",
                    )
                )
        return self.env["res.partner"], None

    def _xero_partner_values(self, contact):
        name = (contact.get("Name") or "").strip()
        if not name:
            raise xero.PayloadError(_("The Xero contact has no name."))
        values = {
            "name": name,
            "email": (contact.get("EmailAddress") or "").strip() or False,
            "vat": (contact.get("TaxNumber") or "").strip() or False,
        }
        phones = {phone.get("PhoneType"): phone for phone in contact.get("Phones") or () if isinstance(phone, dict)}
        for phone_type, field in (("DEFAULT", "phone"), ("MOBILE", "mobile")):
            phone = phones.get(phone_type) or {}
            number = " ".join(
                str(phone.get(part)).strip()
                for part in ("PhoneCountryCode", "PhoneAreaCode", "PhoneNumber")
                if phone.get(part)
            )
            values[field] = number or False
        keys = ("AddressLine1", "City", "PostalCode", "Country")
        addresses = [a for a in contact.get("Addresses") or () if isinstance(a, dict) and any(a.get(k) for k in keys)]
        addresses.sort(key=lambda a: a.get("AddressType") != "STREET")  # the street address first
        address = addresses[0] if addresses else None
        if address:
            values.update(
                {
                    "street": address.get("AddressLine1") or False,
                    "street2": " ".join(
                        address[k] for k in ("AddressLine2", "AddressLine3", "AddressLine4") if address.get(k)
                    )
                    or False,
                    "city": address.get("City") or False,
                    "zip": address.get("PostalCode") or False,
                    "country_id": self._xero_country(address.get("Country")).id or False,
                }
            )
        number = str(contact.get("ContactNumber") or "").strip()
        if number and not xero.is_connector_contact_number(number):
            values["ref"] = number
        return values

    def _xero_country(self, value):
        value = (value or "").strip()
        Country = self.env["res.country"]
        if not value:
            return Country
        if len(value) == 2:
            return Country.search([("code", "=ilike", value)], limit=1)
        return Country.search([("name", "=ilike", value)], limit=1)

    def _xero_import_contact(self, run, kind, contact, prefetched):
        contact_id = contact.get("ContactID")
        if not contact_id:
            raise xero.PayloadError(_("The Xero contact has no ContactID."))
        if contact.get("MergedToContactID"):
            reason = _("Merged in Xero into contact %s: that one is imported instead.", contact["MergedToContactID"])
            return ItemResult("skipped", external_id=contact_id, label=contact.get("Name"), reason=reason)
        remote_updated_at = xero.parse_datetime(contact.get("UpdatedDateUTC"), "UpdatedDateUTC")
        values = self._xero_partner_values(contact)
        Binding = self.env["recruitment.sync.binding"]
        binding = prefetched["bindings"].get(contact_id, False)
        archived = contact.get("ContactStatus") in ("ARCHIVED", "GDPRREQUEST")
        if not binding:
            partner, rule = self._xero_match_partner(contact, prefetched)
            if partner:
                # A partner that exists in Odoo keeps its data: only what it lacks comes from Xero.
                missing = {name: value for name, value in values.items() if value and not partner[name]}
                if missing:
                    partner.with_context(**IMPORT_CONTEXT).write(missing)
                binding = Binding._bind(self, partner, contact_id, CONTACT, remote_updated_at, existing=False)
                prefetched["bindings"][contact_id] = binding
                prefetched["bound_to"][partner.id] = contact_id
                return ItemResult("updated", partner, contact_id, reason=_("Matched by %s.", rule))
        result, binding = Binding._import_record(
            self,
            "res.partner",
            contact_id,
            remote_updated_at,
            values,
            external_model=CONTACT,
            binding=binding,
            create_values={
                "company_id": False,
                "is_company": True,
                "customer_rank": 1,
                "active": not archived,
            },
        )
        prefetched["bindings"][contact_id] = binding
        if archived and result.action == "created":
            result.reason = _("Archived in Xero: created archived.")
        return result

    def _xero_process_contacts(self, run, kind, contacts):
        prefetched = self._xero_prefetch_partners(contacts)
        for contact in contacts:
            run._process_item(
                kind,
                contact,
                lambda run_, kind_, item: self._xero_import_contact(run_, kind_, item, prefetched),
            )
