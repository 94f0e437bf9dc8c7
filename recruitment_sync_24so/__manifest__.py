# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Recruitment Sync: 24SevenOffice",
    "summary": "Export selected customer invoices and credit notes to 24SevenOffice with per-department logins",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "website": "https://github.com/recruitment-sync/recruitment_sync",
    "author": "Recruitment Sync",
    "maintainers": [],
    "license": "LGPL-3",
    "installable": True,
    "depends": ["recruitment_sync"],
    "external_dependencies": {
        "python": ["zeep"],
    },
    "data": [
        "security/recruitment_sync_24so_security.xml",
        "security/ir.model.access.csv",
        "views/recruitment_sync_24so_credential_views.xml",
        "views/tso_vat_code_views.xml",
        "views/recruitment_sync_integration_views.xml",
        "views/recruitment_sync_run_views.xml",
        "views/account_move_views.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "recruitment_sync_24so/static/src/js/*.js",
        ],
        "web.assets_tests": [
            "recruitment_sync_24so/static/tests/tours/*.js",
        ],
    },
}
