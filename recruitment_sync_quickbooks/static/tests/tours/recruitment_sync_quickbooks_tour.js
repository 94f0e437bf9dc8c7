import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

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
            trigger: '.o_form_view .o_field_widget[name="export_invoices"] input:checked',
        },
        {
            content: "Save & Sync",
            trigger: '.o_form_view .o_form_statusbar button[name="action_qbo_save_and_sync"]',
            run: "click",
        },
        {
            content: "The confirmation counts the invoices about to be exported",
            trigger:
                '.modal .o_data_row:contains(Sales invoices):has(td[name="count_display"]:contains(/^\\s*2\\s*$/))',
        },
        {
            content: "... and the customers QuickBooks does not have yet",
            trigger:
                '.modal .o_data_row:contains(Customers the invoices need):has(td[name="count_display"]:contains(/^\\s*1\\s*$/))',
        },
        {
            content: "... and QuickBooks' tax codes to import",
            trigger:
                '.modal .o_data_row:contains(Tax codes and rates):has(td[name="count_display"]:contains(/^\\s*\\d+\\s*$/))',
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
registry.category("web_tour.tours").add("recruitment_sync_quickbooks_notified", {
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
            content: "The failed invoice says which tax has no QuickBooks tax code",
            trigger:
                '.o_form_view .o_field_widget[name="line_ids"] .o_data_row:has(td[name="action"]:contains(Failed)):contains(has no QuickBooks tax code)',
        },
        {
            content: "The other invoice went to QuickBooks",
            trigger:
                '.o_form_view .o_field_widget[name="line_ids"] .o_data_row:has(td[name="action"]:contains(Exported)):contains(Sales invoices)',
        },
        ...stepUtils.goToAppSteps("account.menu_finance", "Open the Invoicing app"),
        {
            content: "Open the Sync History",
            trigger: '[data-menu-xmlid="recruitment_sync.menu_recruitment_sync_history"]',
            run: "click",
        },
        {
            content: "The run is listed, done with errors",
            trigger: ".o_list_view .o_data_row:contains(QuickBooks):contains(Manual):contains(Done with errors)",
        },
    ],
});
