import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// Smoke test of the menus: an administrator finds Invoicing > Integrations and, with no
// integration configured yet, the empty state that explains what to do.
registry.category("web_tour.tours").add("recruitment_sync_integrations_empty_state", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("account.menu_finance", "Open the Invoicing app"),
        {
            trigger: 'button[data-menu-xmlid="recruitment_sync.menu_recruitment_sync_root"]',
            run: "click",
        },
        {
            trigger: '.dropdown-item[data-menu-xmlid="recruitment_sync.menu_recruitment_sync_integrations"]',
            run: "click",
        },
        {
            content: "The empty state explains what integrations are for",
            trigger: ".o_view_nocontent .o_view_nocontent_smiling_face:contains(No integration yet)",
        },
    ],
});
