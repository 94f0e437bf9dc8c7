# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Recruitment Sync: test provider",
    "summary": "A minimal connector used by the core's tests (installed by `make test` only)",
    "version": "18.0.1.0.0",
    "category": "Hidden/Tests",
    "website": "https://github.com/recruitment-sync/recruitment_sync",
    "author": "Recruitment Sync",
    "license": "LGPL-3",
    "installable": True,
    "depends": ["recruitment_sync"],
    "data": ["security/ir.model.access.csv"],
}
