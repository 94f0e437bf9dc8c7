import { addSaveAndSyncJourney, confirmationCount } from "@recruitment_sync/../tests/tours/tour_steps";

// The Xero journey, in two tours of one browser session (test_ui.py): the background run is
// processed by the test between them, as the cron would, and its end reaches the browser by
// the bus.
// 1. On the Xero integration's form: Save & Sync, the confirmation with its counts, Proceed.
// 2. After the run: its notification, the run with its failed item, Sync History.
addSaveAndSyncJourney("recruitment_sync_xero", {
    provider: "Xero",
    formSteps: [
        {
            content: "The Xero tab says what to sync",
            trigger: '.o_form_view .o_notebook a[name="xero"]',
            run: "click",
        },
        {
            trigger: '.o_form_view .o_field_widget[name="export_invoices"] input:checked',
        },
    ],
    button: "action_xero_save_and_sync",
    settingsCount: confirmationCount("... and Xero's tax rates to import", "Tax rates"),
    taxMapping: "Xero tax rate",
    exportedText: "invoices",
    integration: "Xero UK",
});
