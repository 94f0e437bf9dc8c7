import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";
import { proceedSteps } from "./tour_steps";

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

// Sync now from an integration: the confirmation shows what is about to be synced and how
// many; Proceed queues the run; the integration's Sync History lists it.
registry.category("web_tour.tours").add("recruitment_sync_sync_now", {
    steps: () => [
        {
            content: "Sync now opens the confirmation",
            trigger: '.o_form_view button[name="action_sync_now"]',
            run: "click",
        },
        {
            content: "The confirmation counts the records about to be synced",
            trigger: ".modal .o_data_row:contains(Contacts):contains(7)",
        },
        ...proceedSteps(),
        {
            trigger: '.o_form_view button[name="action_view_runs"]',
            run: "click",
        },
        {
            content: "The run is in the sync history",
            trigger: ".o_list_view .o_data_row:contains(Manual):contains(Queued)",
        },
    ],
});
