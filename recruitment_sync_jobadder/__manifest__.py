# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Recruitment Sync: JobAdder",
    "summary": "Import placements from JobAdder, with their clients, contacts, candidates and consultants",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "website": "https://github.com/recruitment-sync/recruitment_sync",
    "author": "Recruitment Sync",
    "maintainers": [],
    "license": "LGPL-3",
    "installable": True,
    "depends": ["recruitment_sync"],
    "external_dependencies": {
        "python": ["requests", "requests-oauthlib", "pytz"],
    },
    "data": [
        "security/ir.model.access.csv",
        "security/recruitment_sync_jobadder_security.xml",
        "data/res_partner_category_data.xml",
        "views/recruitment_placement_views.xml",
        "views/recruitment_sync_integration_views.xml",
        "views/recruitment_sync_jobadder_menus.xml",
    ],
    "demo": [
        "demo/recruitment_sync_jobadder_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "recruitment_sync_jobadder/static/tests/tours/*.js",
        ],
    },
}
