# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Recruitment Sync: QuickBooks Online",
    "summary": "Import tax codes, accounts, items and customers from QuickBooks Online; export sales invoices, "
    "credit memos and payments",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "website": "https://github.com/recruitment-sync/recruitment_sync",
    "author": "Recruitment Sync",
    "maintainers": [],
    "license": "LGPL-3",
    "installable": True,
    "depends": ["recruitment_sync"],
    "external_dependencies": {
        "python": ["requests", "requests-oauthlib"],
    },
    "data": [
        "security/ir.model.access.csv",
        "security/recruitment_sync_quickbooks_security.xml",
        "data/ir_cron.xml",
        "views/recruitment_sync_integration_views.xml",
        "views/qbo_mapping_views.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "recruitment_sync_quickbooks/static/tests/tours/*.js",
        ],
    },
}
