import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

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
            trigger: '.o_form_view .o_field_widget[name="export_invoices"] input:checked',
        },
        {
            content: "Save & Sync",
            trigger: '.o_form_view .o_form_statusbar button[name="action_xero_save_and_sync"]',
            run: "click",
        },
        {
            content: "The confirmation counts the invoices about to be exported",
            trigger:
                '.modal .o_data_row:contains(Sales invoices):has(td[name="count_display"]:contains(/^\\s*2\\s*$/))',
        },
        {
            content: "... and the customers Xero does not have yet",
            trigger:
                '.modal .o_data_row:contains(Customers the invoices need):has(td[name="count_display"]:contains(/^\\s*1\\s*$/))',
        },
        {
            content: "... and Xero's tax rates to import",
            trigger: '.modal .o_data_row:contains(Tax rates):has(td[name="count_display"]:contains(/^\\s*\\d+\\s*$/))',
        },
        {
            trigger: '.modal button[name="action_proceed"]',
            run: "click",
        },
        {
            content: "The user is told the sync runs in the background",
            trigger: ".o_notification:contains(Sync queued)",
        },
    ],
});

// 2. After the run: its notification, the run with its failed item, Sync History.
registry.category("web_tour.tours").add("recruitment_sync_xero_notified", {
    steps: () => [
        {
            content: "The end of the run is notified, with whether it succeeded",
            trigger: ".o_recruitment_sync_run_notification:contains(Done with errors)",
        },
        {
            content: "Open the run from the notification",
            trigger: ".o_recruitment_sync_run_notification button:contains(Open the run)",
            run: "click",
        },
        {
            content: "The failed invoice says which tax has no Xero tax rate",
            trigger:
                '.o_form_view .o_field_widget[name="line_ids"] .o_data_row:has(td[name="action"]:contains(Failed)):contains(has no Xero tax rate)',
        },
        {
            content: "The other invoice went to Xero",
            trigger:
                '.o_form_view .o_field_widget[name="line_ids"] .o_data_row:has(td[name="action"]:contains(Exported)):contains(invoices)',
        },
        ...stepUtils.goToAppSteps("account.menu_finance", "Open the Invoicing app"),
        {
            content: "Open the Sync History",
            trigger: '[data-menu-xmlid="recruitment_sync.menu_recruitment_sync_history"]',
            run: "click",
        },
        {
            content: "The run is listed, done with errors",
            trigger: ".o_list_view .o_data_row:contains(Xero UK):contains(Manual):contains(Done with errors)",
        },
    ],
});
