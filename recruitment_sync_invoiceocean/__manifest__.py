# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Recruitment Sync: InvoiceOcean",
    "summary": "Customers both ways with InvoiceOcean, its documents as CRM opportunities, +Add invoice",
    "version": "18.0.1.0.0",
    "category": "Sales/CRM",
    "website": "https://github.com/recruitment-sync/recruitment_sync",
    "author": "Recruitment Sync",
    "maintainers": [],
    "license": "LGPL-3",
    "installable": True,
    "depends": ["recruitment_sync", "crm"],
    "external_dependencies": {
        "python": ["requests"],
    },
    "data": [
        "security/ir.model.access.csv",
        "security/recruitment_sync_invoiceocean_security.xml",
        "data/invoiceocean_kind_data.xml",
        "views/recruitment_sync_integration_views.xml",
        "views/invoiceocean_rows_views.xml",
        "views/crm_lead_views.xml",
        "views/invoiceocean_invoice_wizard_views.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "recruitment_sync_invoiceocean/static/src/**/*",
        ],
        "web.assets_tests": [
            "recruitment_sync_invoiceocean/static/tests/tours/*.js",
        ],
    },
}
