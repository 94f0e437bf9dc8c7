# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Recruitment Sync: Xero",
    "summary": "Import tax rates, accounts and customers from Xero; export sales invoices, credit notes and payments",
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
        "security/recruitment_sync_xero_security.xml",
        "views/recruitment_sync_integration_views.xml",
        "views/xero_mapping_views.xml",
        "views/account_move_views.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "recruitment_sync_xero/static/tests/tours/*.js",
        ],
    },
}
