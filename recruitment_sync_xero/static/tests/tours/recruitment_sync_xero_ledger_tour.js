import { registry } from "@web/core/registry";

// On an invoice whose export to Xero failed (test_ui.py): the Ledgers tab shows why, Retry
// queues its export (the test then runs it, as the cron would).
registry.category("web_tour.tours").add("recruitment_sync_xero_invoice_retry", {
    steps: () => [
        {
            content: "The invoice says its export failed",
            trigger: '.o_form_view .o_notebook a[name="sync_ledgers"]',
            run: "click",
        },
        {
            content: "... to which ledger, and why",
            trigger:
                '.o_form_view .o_field_widget[name="sync_status_ids"] .o_data_row:contains(Xero UK):contains(Failed):contains(has no Xero tax rate)',
        },
        {
            content: "Retry",
            trigger: '.o_form_view .o_field_widget[name="sync_status_ids"] .o_data_row button[name="action_retry"]',
            run: "click",
        },
        {
            content: "The export is queued, not sent from here",
            trigger: ".o_notification:contains(Export queued)",
        },
        {
            trigger: '.o_form_view .o_field_widget[name="sync_status_ids"] .o_data_row:contains(Queued)',
        },
    ],
});
