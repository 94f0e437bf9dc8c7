import { registry } from "@web/core/registry";
import {
    confirmationCount,
    openInvoicingMenu,
    openNotifiedRunSteps,
    runLine,
    saveAndSyncSteps,
} from "@recruitment_sync/../tests/tours/tour_steps";

// The Xero journey, in two tours of one browser session (test_ui.py): the background run is
// processed by the test between them, as the cron would, and its end reaches the browser by
// the bus.

// 1. On the Xero integration's form: Save & Sync, the confirmation with its counts, Proceed.
registry.category("web_tour.tours").add("recruitment_sync_xero_save_and_sync", {
    steps: () => [
        {
            content: "The Xero tab says what to sync",
            trigger: '.o_form_view .o_notebook a[name="xero"]',
            run: "click",
        },
        {
            trigger: '.o_form_view .o_field_widget[name="xero_export_invoices"] input:checked',
        },
        ...saveAndSyncSteps("action_xero_save_and_sync", [
            confirmationCount("The confirmation counts the invoices about to be exported", "Sales invoices", 2),
            confirmationCount("... and the customers Xero does not have yet", "Customers the invoices need", 1),
            confirmationCount("... and Xero's tax rates to import", "Tax rates"),
        ]),
    ],
});

// 2. After the run: its notification, the run with its failed item, Sync History.
registry.category("web_tour.tours").add("recruitment_sync_xero_notified", {
    steps: () => [
        ...openNotifiedRunSteps("Done with errors"),
        runLine("The failed invoice says which tax has no Xero tax rate", "Failed", "has no Xero tax rate"),
        runLine("The other invoice went to Xero", "Exported", "invoices"),
        ...openInvoicingMenu("recruitment_sync.menu_recruitment_sync_history", "Open the Sync History"),
        {
            content: "The run is listed, done with errors",
            trigger: ".o_list_view .o_data_row:contains(Xero UK):contains(Manual):contains(Done with errors)",
        },
    ],
});
