"""From Xero: tax rates and accounts (mapping tables) and customers (res.partner)."""

from datetime import datetime, timedelta

from odoo import _, models

from odoo.addons.recruitment_sync.services.provider import Batch, ItemResult

from ..services import xero
from .xero_mapping import account_values, tax_rate_values

# Re-read this much before the watermark: a clock skew between Xero and us loses nothing [I].
OVERLAP = timedelta(minutes=2)
CONTACT = "contact"  # binding type of Xero contacts (res.partner)


class RecruitmentSyncXeroImport(models.AbstractModel):
    """From Xero, on a Xero integration (mixed into ``recruitment.sync.integration``)."""

    _name = "recruitment.sync.xero.import"
    _description = "Xero imports"

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
            model, key, values_of = "recruitment.sync.xero.tax.rate", "tax_type", tax_rate_values
        else:
            model, key, values_of = "recruitment.sync.xero.account", "xero_id", account_values
        self._import_rows(run, kind, model, key, items, values_of)._auto_match()

    # ------------------------------------------------------------------------ customers
    def _xero_prefetch_partners(self, contacts):
        """Everything the matching rules need for a page of contacts, in a few queries."""
        numbers = {str(c.get("ContactNumber")).strip() for c in contacts if c.get("ContactNumber")}
        uuid = self._database_uuid()
        return self._partner_candidates(
            CONTACT,
            [c.get("ContactID") for c in contacts],
            ids={xero.partner_id_from_contact_number(number, uuid) for number in numbers},
            refs=numbers,
            names={c.get("Name") for c in contacts},
            emails={c.get("EmailAddress") for c in contacts},
            vats={c.get("TaxNumber") for c in contacts if c.get("TaxNumber")},
        )

    def _xero_match_partner(self, contact, prefetched):
        """The one Odoo partner a new Xero contact is, by the first rule that finds any: (partner, rule).

        Rules in order: Contact Code (our reference or partner id), VAT number, email, exact
        name. Partners bound to another Xero contact are not candidates. When a rule finds
        several partners the contact is refused with their names: never a guess.
        """
        number = str(contact.get("ContactNumber") or "").strip()
        partner_id = xero.partner_id_from_contact_number(number, self._database_uuid())
        # Another database's code (or the old ODOO-RP-<id>) names nobody here, not even by reference.
        own_code = number and not xero.is_connector_contact_number(number)
        rules = [
            (
                _("Contact Code"),
                lambda p: (partner_id and p.id == partner_id) or (own_code and (p.ref or "").strip() == number),
            ),
            *self._partner_rules(contact.get("TaxNumber"), contact.get("EmailAddress"), contact.get("Name")),
        ]
        hint = _(
            "set the Xero Contact Code (%(code)s) as the Reference of the right partner, or merge the duplicates, "
            "then sync again.",
            code=number or "-",
        )
        return self._match_partner(prefetched, contact.get("ContactID"), rules, _("The Xero contact"), hint)

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
                    "country_id": self._country_of(address.get("Country")).id or False,
                }
            )
        number = str(contact.get("ContactNumber") or "").strip()
        if number and not xero.is_connector_contact_number(number):
            values["ref"] = number
        return values

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
                return self._adopt_partner(prefetched, CONTACT, partner, contact_id, values, remote_updated_at, rule)
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
