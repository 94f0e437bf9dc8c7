import { registry } from "@web/core/registry";
import {
    confirmationCount,
    openInvoicingMenu,
    openNotifiedRunSteps,
    runLine,
    saveAndSyncSteps,
} from "@recruitment_sync/../tests/tours/tour_steps";

// The QuickBooks journey, in two tours of one browser session (test_ui.py): the background run is
// processed by the test between them, as the cron would, and its end reaches the browser by the bus.

// 1. On the QuickBooks integration's form: Save & Sync, the confirmation with its counts, Proceed.
registry.category("web_tour.tours").add("recruitment_sync_quickbooks_save_and_sync", {
    steps: () => [
        {
            content: "The QuickBooks tab names the connected company",
            trigger: '.o_form_view .o_notebook a[name="quickbooks"]',
            run: "click",
        },
        {
            trigger: '.o_form_view .o_field_widget[name="qbo_company_name"]:contains(BrightStaff)',
        },
        {
            trigger: '.o_form_view .o_field_widget[name="qbo_export_invoices"] input:checked',
        },
        ...saveAndSyncSteps("action_qbo_save_and_sync", [
            confirmationCount("The confirmation counts the invoices about to be exported", "Sales invoices", 2),
            confirmationCount("... and the customers QuickBooks does not have yet", "Customers the invoices need", 1),
            confirmationCount("... and QuickBooks' tax codes to import", "Tax codes and rates"),
        ]),
    ],
});

// 2. After the run: its notification, the run with its failed item, Sync History.
registry.category("web_tour.tours").add("recruitment_sync_quickbooks_notified", {
    steps: () => [
        ...openNotifiedRunSteps("Done with errors"),
        runLine("The failed invoice says which tax has no QuickBooks tax code", "Failed", "has no QuickBooks tax code"),
        runLine("The other invoice went to QuickBooks", "Exported", "Sales invoices"),
        ...openInvoicingMenu("recruitment_sync.menu_recruitment_sync_history", "Open the Sync History"),
        {
            content: "The run is listed, done with errors",
            trigger: ".o_list_view .o_data_row:contains(QuickBooks):contains(Manual):contains(Done with errors)",
        },
    ],
});
