import { registry } from "@web/core/registry";
import {
    confirmationCount,
    openInvoicingMenu,
    proceedSteps,
} from "@recruitment_sync/../tests/tours/tour_steps";

// The JobAdder journey, in several tours of one browser session (test_jobadder_ui.py): the
// consent page is on JobAdder's own site, where no tour runs, and the background runs are
// processed by the test between two tours.

// 1. On the JobAdder integration's form: Connect leaves Odoo for JobAdder's consent page.
registry.category("web_tour.tours").add("recruitment_sync_jobadder_connect", {
    steps: () => [
        {
            content: "The integration is not connected yet",
            trigger: '.o_form_view .o_statusbar_status button[data-value="not_connected"][aria-checked="true"]',
        },
        {
            content: "Connect opens JobAdder's consent page",
            trigger: '.o_form_view .o_form_statusbar button[name="action_connect"]',
            run: "click",
        },
    ],
});

// 2. Back from the consent page (Accept): the integration's form says it is connected.
registry.category("web_tour.tours").add("recruitment_sync_jobadder_connected", {
    steps: () => [
        {
            content: "The integration is connected",
            trigger: '.o_form_view .o_statusbar_status button[data-value="connected"][aria-checked="true"]',
        },
        {
            content: "It can be synced now",
            trigger: '.o_form_view .o_form_statusbar button[name="action_sync_now"]',
        },
        {
            content: "The chatter says who connected it",
            trigger: ".o-mail-Message:contains(Connected by)",
        },
    ],
});

// 3. After the initial load: Invoicing > Placements lists the imported placements.
registry.category("web_tour.tours").add("recruitment_sync_jobadder_placements", {
    steps: () => [
        ...openInvoicingMenu("recruitment_sync_jobadder.menu_recruitment_placements", "Open the Placements screen"),
        {
            content: "A placement the initial load brought is listed",
            trigger: '.o_list_view .o_data_row td[name="job_title"]:contains(Tour Guide)',
        },
    ],
});

// 4. On the Placements screen: Sync JobAdder, the confirmation with its counts, Proceed.
registry.category("web_tour.tours").add("recruitment_sync_jobadder_sync", {
    steps: () => [
        {
            trigger: '.o_control_panel button[name="action_sync_jobadder"]',
            run: "click",
        },
        confirmationCount(
            "The confirmation counts the placements changed in JobAdder since the last sync",
            "with their clients",
            2
        ),
        ...proceedSteps(),
    ],
});

// 5. After the run: Invoicing > Sync History, the run and what happened to each record.
registry.category("web_tour.tours").add("recruitment_sync_jobadder_history", {
    steps: () => [
        ...openInvoicingMenu("recruitment_sync.menu_recruitment_sync_history", "Open the Sync History"),
        {
            content: "The initial load is in the history",
            trigger: ".o_list_view .o_data_row:contains(Initial load)",
        },
        {
            content: "Open the run of Sync JobAdder",
            trigger: '.o_list_view .o_data_row:contains(Manual):contains(Done) td[name="integration_id"]',
            run: "click",
        },
        {
            content: "The new placement was created",
            trigger:
                '.o_form_view .o_field_widget[name="line_ids"] .o_data_row:contains(Night Tour Guide):has(td[name="action"]:contains(Created))',
        },
        {
            content: "The placement changed in JobAdder was updated",
            trigger:
                '.o_form_view .o_field_widget[name="line_ids"] .o_data_row:contains(Senior Tour Guide):has(td[name="action"]:contains(Updated))',
        },
    ],
});
