# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Recruitment Sync: end-to-end test",
    "summary": "The browser test of the whole product against the sandbox (installed by `make test` only)",
    "version": "18.0.1.0.0",
    "category": "Hidden/Tests",
    "website": "https://github.com/recruitment-sync/recruitment_sync",
    "author": "Recruitment Sync",
    "license": "LGPL-3",
    "installable": True,
    "depends": [
        "recruitment_sync",
        "recruitment_sync_jobadder",
        "recruitment_sync_xero",
        "recruitment_sync_24so",
        "recruitment_sync_quickbooks",
        "recruitment_sync_invoiceocean",
    ],
    "data": [],
    "assets": {
        "web.assets_tests": [
            "recruitment_sync_e2e/static/tests/tours/*.js",
        ],
    },
}
