import { registry } from "@web/core/registry";

// The InvoiceOcean journey, in tours of one test (test_ui.py): the background runs are processed by
// the test between them, as the cron would.

// 1. The administrator pastes the token and saves: the connection is tested and the accounts linked.
registry.category("web_tour.tours").add("recruitment_sync_invoiceocean_activate", {
    steps: () => [
        {
            trigger: '.o_form_view .o_notebook a[name="invoiceocean"]',
            run: "click",
        },
        {
            content: "Paste the API token",
            trigger: '.o_form_view .o_field_widget[name="io_api_token"] input',
            run: "edit io-fake-secret",
        },
        {
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "Saved and connected",
            trigger: '.o_form_view .o_form_saved .o_field_widget[name="state"] button[aria-checked="true"]:contains(Connected)',
        },
    ],
});

// 2. A client edited in InvoiceOcean shows its new city in Odoo.
registry.category("web_tour.tours").add("recruitment_sync_invoiceocean_client", {
    steps: () => [
        {
            content: "The city written in InvoiceOcean",
            trigger: '.o_form_view .o_field_widget[name="city"] input:value(Kraków)',
        },
    ],
});

// 3. An InvoiceOcean invoice is an opportunity with its link.
registry.category("web_tour.tours").add("recruitment_sync_invoiceocean_document", {
    steps: () => [
        {
            content: "The button that opens the document in InvoiceOcean",
            trigger: '.o_form_view .o_form_statusbar button[name="action_io_open_document"]:contains(Open in InvoiceOcean)',
        },
        {
            trigger: '.o_form_view .o_notebook a[name="invoiceocean"]',
            run: "click",
        },
        {
            trigger: '.o_form_view .o_field_widget[name="io_document_kind"]:contains(VAT invoice)',
        },
    ],
});

// 4. "+Add invoice" from another opportunity: the dialog prefilled, issued in the background.
registry.category("web_tour.tours").add("recruitment_sync_invoiceocean_add_invoice", {
    steps: () => [
        {
            trigger: '.o_form_view .o_form_statusbar button[name="action_io_add_invoice"]',
            run: "click",
        },
        {
            content: "Prefilled from the opportunity",
            trigger: '.modal .o_field_widget[name="line_ids"] .o_data_row td[name="name"]:contains(Spring hiring)',
        },
        {
            trigger: '.modal button[name="action_confirm"]',
            run: "click",
        },
        {
            content: "Back on the opportunity while InvoiceOcean issues it",
            trigger: ".o_notification:contains(being issued in InvoiceOcean)",
        },
        {
            trigger: ".o_form_view .alert-info:contains(being created in the background)",
        },
    ],
});

// 5. When the runner has issued it (the same page, still waiting): the notification takes the user to
// it in InvoiceOcean, and the opportunity opens it too.
registry.category("web_tour.tours").add("recruitment_sync_invoiceocean_invoice_ready", {
    steps: () => [
        {
            content: "Keep where the notification sends the browser (a new tab, which the test cannot follow)",
            trigger: "body",
            run() {
                window.open = (url) => {
                    sessionStorage.setItem("recruitment_sync_invoiceocean_opened", url);
                    return null;
                };
            },
        },
        {
            content: "The invoice is ready: open it in InvoiceOcean",
            trigger: ".o_notification:contains(is ready in InvoiceOcean) button:contains(Open in InvoiceOcean)",
            run: "click",
        },
        {
            trigger: '.o_form_view .o_form_statusbar button[name="action_io_open_document"]:contains(Open in InvoiceOcean)',
        },
    ],
});
