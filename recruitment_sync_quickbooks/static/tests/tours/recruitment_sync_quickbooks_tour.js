import { addSaveAndSyncJourney, confirmationCount } from "@recruitment_sync/../tests/tours/tour_steps";

// The QuickBooks journey, in two tours of one browser session (test_ui.py): the background run is
// processed by the test between them, as the cron would, and its end reaches the browser by the bus.
// 1. On the QuickBooks integration's form: Save & Sync, the confirmation with its counts, Proceed.
// 2. After the run: its notification, the run with its failed item, Sync History.
addSaveAndSyncJourney("recruitment_sync_quickbooks", {
    provider: "QuickBooks",
    formSteps: [
        {
            content: "The QuickBooks tab names the connected company",
            trigger: '.o_form_view .o_notebook a[name="quickbooks"]',
            run: "click",
        },
        {
            trigger: '.o_form_view .o_field_widget[name="qbo_company_name"]:contains(BrightStaff)',
        },
        {
            trigger: '.o_form_view .o_field_widget[name="export_invoices"] input:checked',
        },
    ],
    button: "action_qbo_save_and_sync",
    settingsCount: confirmationCount("... and QuickBooks' tax codes to import", "Tax codes and rates"),
    taxMapping: "QuickBooks tax code",
    exportedText: "Sales invoices",
    integration: "QuickBooks",
});
