# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Recruitment Sync",
    "summary": "Connect Odoo to recruitment and accounting systems: integrations, "
    "background sync runs, history and bindings",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "website": "https://github.com/recruitment-sync/recruitment_sync",
    "author": "Recruitment Sync",
    "maintainers": [],
    "license": "LGPL-3",
    "application": False,
    "installable": True,
    "depends": ["account", "hr", "mail", "bus", "auth_signup"],
    "external_dependencies": {
        "python": ["requests", "requests-oauthlib"],
    },
    "data": [
        "security/recruitment_sync_security.xml",
        "security/ir.model.access.csv",
        "data/ir_cron_data.xml",
        "data/mail_template_data.xml",
        "views/recruitment_sync_integration_views.xml",
        "views/recruitment_sync_run_views.xml",
        "views/recruitment_sync_failed_item_views.xml",
        "views/recruitment_sync_confirm_wizard_views.xml",
        "views/bound_records_views.xml",
        "views/res_config_settings_views.xml",
        "views/recruitment_sync_menus.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "recruitment_sync/static/src/js/*.js",
            "recruitment_sync/static/src/js/*.xml",
        ],
        "web.assets_tests": [
            "recruitment_sync/static/tests/tours/*.js",
        ],
    },
}
