"""Departments, products and customers of a batch's invoices in 24SevenOffice: stored ids
(confirmed once per run), else matched (products by number, customers by our key, then their
organisation number, never by name), else created; in batches, an invoice whose data cannot be
matched failing alone (a mixin of the export of one login's batch, ``tso_export``)."""

from collections import defaultdict

from odoo.tools.translate import LazyTranslate

from odoo.addons.recruitment_sync.services.binder import Binder
from odoo.addons.recruitment_sync.services.provider import ItemResult, SyncKind

from ..services import mapping

_lt = LazyTranslate(__name__)
PRODUCTS = SyncKind("products", _lt("Products created in 24SevenOffice"), "export")
CUSTOMERS = SyncKind("customers", _lt("Customers created in 24SevenOffice"), "export")
# A few unknown products or customers are searched one by one; more, in the client's lists.
LOOKUP_ONE_BY_ONE = 5
SAVE_CHUNK = 100  # products or customers per Save call
ID_CHUNK = 1000  # ids per Get call [V S5 S17]


class TsoMatching:
    """Resolves the 24SevenOffice ids a batch's invoices refer to."""

    def _departments(self, moves):
        """{move: 24SevenOffice department id or None}; an unknown id fails its invoices."""
        result = {}
        known = self.client_cache.get("departments")
        for move in moves:
            department = move.department_id
            ref = department.tso_department_ref if department else 0
            if not ref:
                result[move] = None
                continue
            if known is None:
                known = {department_data.get("Id") for department_data in self.client.departments()}
                self.client_cache["departments"] = known
            if ref not in known:
                self._fail(
                    move,
                    self._(
                        "24SevenOffice (%(client)s) has no department %(ref)s, the number set on the department "
                        "%(department)s: correct its 24SevenOffice department number.",
                        client=self.client_label,
                        ref=ref,
                        department=department.display_name,
                    ),
                )
            result[move] = ref
        return result

    # -- products -----------------------------------------------------------------------
    def _product_of(self, line):
        return line.product_id or self.integration.tso_generic_product_id

    def _products(self, moves):
        """{product.product: 24SevenOffice product id} of the products the invoices need."""
        users = defaultdict(lambda: self.env["account.move"])  # product -> moves using it
        for move in moves:
            for line in move.invoice_line_ids.filtered(lambda line: line.display_type == "product"):
                product = self._product_of(line)
                if product:
                    users[product] |= move
        ids = {}
        numbers = {}
        for product, used_by in users.items():
            number = mapping.product_number(product.default_code)
            if not number:
                self._fail(
                    used_by,
                    self._(
                        "The product %s has no internal reference: 24SevenOffice products are matched by their number.",
                        product.display_name,
                    ),
                )
            else:
                numbers[product] = number
        external_model = f"product@{self.client_ref}"
        ids, unbound = self._still_bound(
            "product.product",
            list(numbers),
            external_model,
            "products",
            lambda chunk: self.client.get_products({"ProductIds": {"int": chunk}}, ("Id", "No")),
        )
        confirmed = self.client_cache["products"]
        if not unbound:
            return ids
        found = self._find_products({numbers[product] for product in unbound})
        to_create, matched = [], []
        for product in unbound:
            matches = found.get(numbers[product], [])
            if len(matches) == 1:
                ids[product] = matches[0]
                matched.append((product, matches[0]))
                confirmed.add(matches[0])
            elif len(matches) > 1:
                self._fail(
                    users[product],
                    self._(
                        "24SevenOffice (%(client)s) has %(count)s products numbered %(number)s (ids %(ids)s): "
                        "the product %(product)s is ambiguous. Make the number unique in 24SevenOffice.",
                        client=self.client_label,
                        count=len(matches),
                        number=numbers[product],
                        ids=", ".join(str(ref) for ref in sorted(matches)),
                        product=product.display_name,
                    ),
                )
            else:
                to_create.append(product)
        self.integration._binder(external_model).bind_many(matched)
        if to_create:
            ids.update(self._create_products(to_create, numbers, users, external_model, confirmed))
        return ids

    def _find_products(self, numbers):
        """{number: [24SevenOffice ids]} of the products whose No is exactly one of ``numbers``: looked
        up one by one when few, else in the client's catalog."""
        catalog = self.client_cache.get("catalog")
        if catalog is None and len(numbers) <= LOOKUP_ONE_BY_ONE:
            found = {}
            for number in sorted(numbers):
                products = self.client.get_products({"No": number}, ("Id", "No"))
                found[number] = [p.get("Id") for p in products if mapping.product_number(p.get("No")) == number]
            return found
        if catalog is None:
            catalog = self._product_catalog()
        return {number: list(catalog.get(number, [])) for number in numbers}

    def _product_catalog(self):
        """{number: [ids]} of every product of the client, read once per run category by category:
        a product always belongs to a category [V S7], so a number the catalog lacks is not in
        24SevenOffice (a change-date list would miss products without a change date)."""
        catalog = defaultdict(list)
        for category in self.client.get_categories(("Id",)):
            for product in self.client.get_products({"CategoryId": category.get("Id")}, ("Id", "No")):
                ids = catalog[mapping.product_number(product.get("No"))]
                if product.get("Id") not in ids:  # a category's list may hold its subcategories' too
                    ids.append(product.get("Id"))
        self.client_cache["catalog"] = catalog
        return catalog

    def _create_products(self, products, numbers, users, external_model, confirmed):
        category = self.credential.product_category_ref
        if not category:
            for product in products:
                self._fail(
                    users[product],
                    self._(
                        "The product %(product)s is not in 24SevenOffice and the export cannot create it: no "
                        "category of new products is set on the 24SevenOffice login %(login)s.",
                        product=product.display_name,
                        login=self.credential.username,
                    ),
                )
            return {}
        catalog = self.client_cache.get("catalog")

        def payload(product):
            return {
                "No": mapping.truncate(numbers[product], "product_no"),
                "Name": mapping.truncate(product.name, "product_name") or numbers[product],
                "CategoryId": category,
                "Price": mapping.decimal(product.lst_price),
            }

        def created(product, ref):
            if catalog is not None:
                catalog[numbers[product]].append(ref)

        return self._create(
            PRODUCTS,
            products,
            payload,
            self.client.save_products,
            ("No", lambda product: mapping.truncate(numbers[product], "product_no")),
            users,
            external_model,
            confirmed,
            created,
        )

    def _create(self, kind, records, payload_of, save, echo, users, external_model, confirmed, created):
        """Create ``records`` in 24SevenOffice (``save``, a Save* call per chunk): {record: new id}.

        A record refused (APIException) fails the invoices that need it; a created one is bound,
        confirmed for the run, passed to ``created(record, id)`` and listed in the history.
        ``echo``: (key of the answer, its expected value for a record), to pair the answers.
        """
        ids = {}
        binder = self.integration._binder(external_model)
        answer_key, sent_key = echo
        for start in range(0, len(records), SAVE_CHUNK):
            chunk = records[start : start + SAVE_CHUNK]
            answers = save([payload_of(record) for record in chunk])
            paired = Binder.pair(chunk, answers, sent_key, lambda answer: (answer or {}).get(answer_key))
            created_now = []
            for record, answer in zip(chunk, paired, strict=True):
                error = mapping.api_exception(answer) if answer is not None else self._("no answer")
                ref = mapping.set_value((answer or {}).get("Id"))
                if error or not ref:
                    error = error or self._("no id in its answer")
                    if kind == PRODUCTS:
                        reason = self._(
                            "24SevenOffice did not create the product %(name)s: %(error)s",
                            name=record.display_name,
                            error=error,
                        )
                    else:
                        reason = self._(
                            "24SevenOffice did not create the customer %(name)s: %(error)s",
                            name=record.display_name,
                            error=error,
                        )
                    self._fail(users[record], reason)
                    continue
                ids[record] = ref
                confirmed.add(ref)
                created_now.append((record, ref))
                created(record, ref)
                self.exporter.run._record(kind, ItemResult("created", record, str(ref)))
            binder.bind_many(created_now)
        self.exporter.commit()
        return ids

    def _still_bound(self, model, records, external_model, cache_key, read_ids):
        """Split ``records`` into ({record: 24SO id} still in 24SevenOffice, [records to match]).

        A stored id is confirmed once per client and process (``read_ids`` reads ids in chunks);
        one 24SevenOffice no longer has is unbound, and its record is matched again.
        """
        binder = self.integration._binder(external_model)
        refs = binder.external_ids(self.env[model].browse([record.id for record in records]))
        bound = {record: int(refs[record.id]) for record in records if (refs.get(record.id) or "").isdigit()}
        confirmed = self.client_cache.setdefault(cache_key, set())
        to_confirm = sorted({ref for ref in bound.values() if ref not in confirmed})
        for start in range(0, len(to_confirm), ID_CHUNK):
            confirmed.update(item.get("Id") for item in read_ids(to_confirm[start : start + ID_CHUNK]))
        ids, unbound, gone = {}, [], self.env[model]
        for record in records:
            ref = bound.get(record)
            if ref and ref in confirmed:
                ids[record] = ref
            else:
                if ref:
                    gone |= record
                unbound.append(record)
        binder.unbind(gone)
        return ids, unbound

    # -- customers ----------------------------------------------------------------------
    def _customers(self, moves):
        """{res.partner: 24SevenOffice customer id}.

        Matched by the stored id, else our ExternalId, else the organisation number (never by
        name alone); created in 24SevenOffice when absent (never with an Id of our choosing).
        """
        users = defaultdict(lambda: self.env["account.move"])
        for move in moves:
            users[move.commercial_partner_id] |= move
        external_model = f"company@{self.client_ref}"
        ids, unbound = self._still_bound(
            "res.partner",
            list(users),
            external_model,
            "companies",
            lambda chunk: self.client.get_companies({"CompanyIds": {"int": chunk}}, ("Id",)),
        )
        confirmed = self.client_cache["companies"]
        if not unbound:
            return ids
        keys = {partner: self._external_key(partner) for partner in unbound}
        org_numbers = {partner: self._organization_number(partner) for partner in unbound}
        by_key, by_number = self._find_companies(unbound, keys, org_numbers)
        to_create, matched = [], []
        for partner in unbound:
            matches = sorted(by_key.get(keys[partner], []))
            if matches:  # ours: created by this database (the lowest if it ever was twice)
                ids[partner] = matches[0]
            elif org_numbers[partner] and by_number.get(org_numbers[partner]):
                matches = sorted(set(by_number[org_numbers[partner]]))
                if len(matches) > 1:
                    self._fail(
                        users[partner],
                        self._(
                            "24SevenOffice (%(client)s) has %(count)s customers with the organisation number "
                            "%(number)s (ids %(ids)s): the customer %(partner)s is ambiguous.",
                            client=self.client_label,
                            count=len(matches),
                            number=org_numbers[partner],
                            ids=", ".join(str(ref) for ref in matches),
                            partner=partner.display_name,
                        ),
                    )
                    continue
                ids[partner] = matches[0]
            else:
                to_create.append(partner)
                continue
            matched.append((partner, ids[partner]))
            confirmed.add(ids[partner])
        self.integration._binder(external_model).bind_many(matched)
        if to_create:
            ids.update(self._create_customers(to_create, keys, org_numbers, users, external_model, confirmed))
        return ids

    def _external_key(self, partner):
        uuid = self.integration._database_uuid()
        return mapping.truncate(mapping.customer_external_id(uuid, partner.id), "external_id")

    @staticmethod
    def _organization_number(partner):
        return mapping.organization_number(partner.company_registry, partner.vat, partner.country_id.code)

    def _find_companies(self, partners, keys, org_numbers):
        """({ExternalId: [ids]}, {organisation number: [ids]}) for ``partners``: searched one by one
        when few, else from the client's customer directory (read once per run)."""
        by_key, by_number = defaultdict(list), defaultdict(list)
        if len(partners) <= LOOKUP_ONE_BY_ONE and "directory" not in self.client_cache:
            for partner in partners:
                self._lookup_company(keys[partner], org_numbers[partner], by_key, by_number)
            return by_key, by_number
        directory = self.client_cache.get("directory") or self._company_directory()
        if not directory["complete"]:
            # The sync list did not give every customer: those not found are looked up exactly
            # (our key, then the organisation number) before any is created.
            for partner in partners:
                key, number = keys[partner], org_numbers[partner]
                if not directory["keys"].get(key) and not (number and directory["numbers"].get(number)):
                    self._lookup_company(key, number, directory["keys"], directory["numbers"])
        return directory["keys"], directory["numbers"]

    def _company_directory(self):
        """Every customer of the client by ExternalId and organisation number: their ids from the
        sync list (GetCompanySyncList, 1,000 a page, customers without a change date included),
        their details by id (GetCompanies, 1,000 ids a call). ``complete`` when the pages held as
        many customers as the list counts."""
        ids, total, page = [], 0, 1
        while True:
            answer = self.client.company_sync_page(page)
            ids += [item.get("CompanyId") for item in answer["Items"] if item.get("CompanyId")]
            total = answer.get("TotalItems") or 0
            if not answer["Items"] or page >= (answer.get("TotalPages") or 0):
                break
            page += 1
        directory = {"keys": defaultdict(list), "numbers": defaultdict(list), "complete": len(set(ids)) >= total}
        properties = ("Id", "ExternalId", "OrganizationNumber")
        ids = sorted(set(ids))
        for start in range(0, len(ids), ID_CHUNK):
            for company in self.client.get_companies(
                {"CompanyIds": {"int": ids[start : start + ID_CHUNK]}}, properties
            ):
                if company.get("ExternalId"):
                    directory["keys"][company["ExternalId"]].append(company.get("Id"))
                number = mapping.digits(company.get("OrganizationNumber"))
                if number:
                    directory["numbers"][number].append(company.get("Id"))
        self.client_cache["directory"] = directory
        return directory

    def _lookup_company(self, key, number, by_key, by_number):
        """Exact lookups of one customer: our ExternalId, else its organisation number."""
        properties = ("Id", "ExternalId", "OrganizationNumber")
        for company in self.client.get_companies({"ExternalId": key}, properties):
            if company.get("ExternalId") == key:
                by_key[key].append(company.get("Id"))
        if by_key.get(key) or not number:
            return
        for company in self.client.get_companies({"OrganizationNumber": number}, properties):
            if mapping.digits(company.get("OrganizationNumber")) == number:
                by_number[number].append(company.get("Id"))

    def _company_payload(self, partner, key, org_number):
        person = not partner.is_company
        name = partner.name or partner.display_name
        payload = {
            "ExternalId": key,
            "Name": mapping.truncate(name, "company_name"),
            "Type": "Consumer" if person else "Business",
            "OrganizationNumber": org_number,
            "Country": (partner.country_id.code or None),
        }
        if person:
            payload["Private"] = True
            parts = name.split()
            if len(parts) > 1:
                payload["FirstName"] = mapping.truncate(" ".join(parts[:-1]), "company_first_name")
                payload["Name"] = mapping.truncate(parts[-1], "company_name")
        email = partner.email and partner.email.split(",")[0].strip()
        if email:
            payload["EmailAddresses"] = {"Invoice": {"Value": mapping.truncate(email, "email")}}
        if partner.street or partner.zip or partner.city:
            address = {
                "Street": mapping.truncate(" ".join(filter(None, [partner.street, partner.street2])), "street"),
                "PostalCode": mapping.truncate(partner.zip, "postal_code"),
                "PostalArea": mapping.truncate(partner.city, "city"),
                "City": mapping.truncate(partner.city, "city"),
                "Country": partner.country_id.code or None,
            }
            payload["Addresses"] = {"Invoice": address, "Post": address}
        return {key_: value for key_, value in payload.items() if value not in (None, "")}

    def _create_customers(self, partners, keys, org_numbers, users, external_model, confirmed):
        directory = self.client_cache.get("directory")

        def created(partner, ref):
            self.created_customers.add(ref)
            if directory is not None:
                directory["keys"][keys[partner]].append(ref)
            if not org_numbers[partner] and partner.is_company:
                note = self._(
                    "The customer %s has no organisation number in Odoo: it was created in 24SevenOffice without one.",
                    partner.display_name,
                )
                for move in users[partner]:
                    self.notes[move].append(note)

        return self._create(
            CUSTOMERS,
            partners,
            # Never an Id: a save with an Id updates (overwrites) that customer [V S17].
            lambda partner: self._company_payload(partner, keys[partner], org_numbers[partner]),
            self.client.save_companies,
            ("ExternalId", lambda partner: keys[partner]),
            users,
            external_model,
            confirmed,
            created,
        )
