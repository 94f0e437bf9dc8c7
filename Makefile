# The README's two commands. Both need Odoo 18.0 importable by python3; they start their own
# PostgreSQL server when none answers through the PG* environment variables.
PYTHON ?= python3

.PHONY: test run peer-test shop-test

test:  ## install the addons in fresh databases, lint, run every test (browser tests included)
	$(PYTHON) scripts/devstack.py test $(ARGS)

run:  ## the sandbox: stand-ins of JobAdder, Xero and 24SevenOffice, Odoo with the addons on http://localhost:8069
	$(PYTHON) scripts/devstack.py run $(ARGS)

peer-test:  ## Odoo's own tests (account, base, hr, mail, portal, web) without and with our addons: same results
	$(PYTHON) scripts/peer_test.py $(ARGS)

shop-test:  ## each addon alone, as Odoo shops test it: fresh demo database, odoo-bin -i <addon> --test-enable
	$(PYTHON) scripts/shop_test.py $(ARGS)
