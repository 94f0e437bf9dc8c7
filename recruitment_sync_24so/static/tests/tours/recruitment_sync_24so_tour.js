import { registry } from "@web/core/registry";
import { openInvoicingMenu } from "@recruitment_sync/../tests/tours/tour_steps";

// The 24SevenOffice export in a browser (test_ui.py), in two tours of one browser session: the
// background export runs between them, while the receipt stays open and follows it.

const row = (customer) => `.o_list_renderer .o_data_row:contains(${customer})`;
const selectRow = (customer) => ({
    content: `Select the invoice of ${customer}`,
    trigger: `${row(customer)} td.o_list_record_selector input[type="checkbox"]`,
    run: "click",
});
const receiptRow = (customer, status) => ({
    content: `The receipt says ${status} for the invoice of ${customer}`,
    trigger: `${row(customer)}:has(td[name="tso_status"]:contains(${status}))`,
});

// 1. Invoicing > Customers > Invoices: select three invoices, Export to 24SevenOffice.
registry.category("web_tour.tours").add("recruitment_sync_24so_export", {
    steps: () => [
        ...openInvoicingMenu("account.menu_finance_receivables", "Open Customers"),
        {
            content: "Open Invoices",
            trigger: '[data-menu-xmlid="account.menu_action_move_out_invoice_type"]',
            run: "click",
        },
        selectRow("Tour Oslo AS"),
        selectRow("Tour Tromsø AS"),
        selectRow("Tour Bergen AS"),
        {
            content: "Open the Actions menu",
            trigger: ".o_cp_action_menus button:has(.fa-cog)",
            run: "click",
        },
        {
            content: "Export to 24SevenOffice",
            trigger: '.o-dropdown--menu .o_menu_item:contains("Export to 24SevenOffice")',
            run: "click",
        },
        {
            content: "The receipt opens",
            trigger: '.o_breadcrumb:contains("24SevenOffice export receipt")',
        },
        receiptRow("Tour Oslo AS", "In transfer"),
        receiptRow("Tour Tromsø AS", "In transfer"),
        receiptRow("Tour Bergen AS", "In transfer"),
    ],
});

// 2. The export ran in the background: the open receipt shows each invoice's outcome.
registry.category("web_tour.tours").add("recruitment_sync_24so_receipt", {
    steps: () => [
        receiptRow("Tour Oslo AS", "Exported"),
        {
            content: "The exported invoice has its 24SevenOffice number",
            trigger: `${row("Tour Oslo AS")} td[name="tso_invoice_number"]:contains(/^\\s*\\d+\\s*$/)`,
        },
        receiptRow("Tour Tromsø AS", "Login error"),
        {
            content: "The login error says which department has no login",
            trigger: `${row("Tour Tromsø AS")} td[name="reason"]:contains(Tromsø)`,
        },
        receiptRow("Tour Bergen AS", "Already exists in 24SevenOffice"),
        {
            content: "Filter the receipt: login errors only",
            trigger: ".o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            trigger: '.o_filter_menu .o-dropdown-item:contains("Login error")',
            run: "click",
        },
        {
            content: "Only the invoice without a login is left",
            trigger:
                ".o_list_renderer:not(:has(.o_data_row:contains(Tour Oslo AS))) .o_data_row:contains(Tour Tromsø AS)",
        },
    ],
});
