import { registry } from "@web/core/registry";
import {
    confirmationCount,
    openInvoicingMenu,
    saveAndSyncSteps,
} from "@recruitment_sync/../tests/tours/tour_steps";

// The sandbox journey (test_sandbox_journey.py), in several tours of one browser session: the
// consent pages are on the stand-ins' own sites, and the background runs are processed by the
// test between two tours. The JobAdder part is recruitment_sync_jobadder's journey (its own tours).
//
// Values that depend on the sandbox's data (a client's name, invoice numbers) are put by the
// test in sessionStorage before the tours that need them.

const tours = registry.category("web_tour.tours");

function testData() {
    return JSON.parse(sessionStorage.getItem("recruitment_sync_e2e") || "{}");
}

function openCustomerInvoices() {
    return [
        ...openInvoicingMenu("account.menu_finance_receivables", "Open the Customers menu"),
        {
            content: "Open the customer invoices",
            trigger: '[data-menu-xmlid="account.menu_action_move_out_invoice_type"]',
            run: "click",
        },
    ];
}

function pick(fieldSelector, text, item) {
    return [
        {
            trigger: `${fieldSelector} input`,
            run: `edit ${text}`,
        },
        {
            trigger: `.o-autocomplete--dropdown-item > a:contains(${item || text})`,
            run: "click",
        },
    ];
}

// 1. The Xero integration's form: a sandbox; Connect leaves Odoo for Xero's consent page.
tours.add("recruitment_sync_e2e_xero_connect", {
    steps: () => [
        {
            content: "The form says the integration talks to a stand-in, not to Xero",
            trigger: ".o_form_view .alert-warning:contains(Sandbox):contains(stand-in)",
        },
        {
            content: "It is not connected yet",
            trigger: '.o_form_view .o_statusbar_status button[data-value="not_connected"][aria-checked="true"]',
        },
        {
            content: "Connect opens Xero's consent page",
            trigger: '.o_form_view .o_form_statusbar button[name="action_connect"]',
            run: "click",
        },
    ],
});

// 2. Back from Xero, which gave access to two organisations: pick this company's.
tours.add("recruitment_sync_e2e_xero_pick_organisation", {
    steps: () => [
        {
            content: "The integration is connected",
            trigger: '.o_form_view .o_statusbar_status button[data-value="connected"][aria-checked="true"]',
        },
        {
            content: "It asks which organisation is this company's",
            trigger: ".o_form_view .alert-warning:contains(Choose the Xero organisation)",
        },
        {
            content: "Open the Xero tab",
            trigger: ".o_notebook_headers a:contains(Xero)",
            run: "click",
        },
        ...pick('.o_field_widget[name="xero_tenant_id"]', "UK"),
        {
            content: "Save: the organisation's settings and customers are imported in the background",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "The organisation's details are read from Xero",
            trigger: '.o_field_widget[name="xero_organisation_name"]:contains(UK)',
        },
    ],
});

// 3. After the import: Xero has three 20% sales rates; map the standard one to the Odoo tax.
tours.add("recruitment_sync_e2e_xero_map_tax", {
    steps: () => [
        {
            content: "Open the Xero tax rates",
            trigger: '.o_form_view button[name="action_xero_view_tax_rates"]',
            run: "click",
        },
        {
            content: "The standard rate (OUTPUT2) is not mapped: it is ambiguous",
            trigger:
                '.o_list_view .o_data_row:has(td[name="tax_type"]:contains(/^\\s*OUTPUT2\\s*$/)) td[name="tax_ids"]',
            run: "click",
        },
        ...pick('.o_data_row.o_selected_row td[name="tax_ids"]', "20%", "20% VAT"),
        {
            trigger: ".o_list_button_save",
            run: "click",
        },
        {
            content: "The Odoo tax is mapped to Xero's standard rate",
            trigger:
                '.o_list_view .o_data_row:not(.o_selected_row):has(td[name="tax_type"]:contains(/^\\s*OUTPUT2\\s*$/)) td[name="tax_ids"]:contains(20% VAT)',
        },
    ],
});

// 4. An invoice for a placement's client, from the London office (the one Xero serves).
tours.add("recruitment_sync_e2e_invoice", {
    steps: () => {
        const { client } = testData();
        return [
            ...openCustomerInvoices(),
            {
                trigger: ".o_control_panel button.o_list_button_add",
                run: "click",
            },
            ...pick('div[name="partner_id"]', client),
            {
                trigger: 'div[name="invoice_line_ids"] .o_field_x2many_list_row_add a',
                run: "click",
            },
            ...pick('div[name="invoice_line_ids"] div[name="product_id"]', "Permanent placement", "Permanent placement fee"),
            {
                content: "The department is under Other Info",
                trigger: ".o_notebook_headers a:contains(Other Info)",
                run: "click",
            },
            ...pick('div[name="department_id"]', "London"),
            {
                content: "Confirm the invoice",
                trigger: '.o_form_statusbar button[name="action_post"]',
                run: "click",
            },
            {
                trigger: '.o_form_view .o_statusbar_status button[data-value="posted"][aria-checked="true"]',
            },
        ];
    },
});

// 5. Save & Sync on the Xero integration: the confirmation with its counts, Proceed.
tours.add("recruitment_sync_e2e_xero_save_and_sync", {
    steps: () =>
        saveAndSyncSteps("action_xero_save_and_sync", [
            confirmationCount("The confirmation counts the invoice to send", "Sales invoices", 1),
        ]),
});

// 6. The run's end is notified to the user who started it.
tours.add("recruitment_sync_e2e_xero_notified", {
    steps: () => [
        {
            content: "The run's end is notified",
            trigger: ".o_recruitment_sync_run_notification:contains(Xero):contains(1 exported)",
        },
    ],
});

// 7. Invoicing > Sync History: the Xero run and what happened to the invoice.
tours.add("recruitment_sync_e2e_xero_history", {
    steps: () => {
        const { invoice } = testData();
        return [
            ...openInvoicingMenu("recruitment_sync.menu_recruitment_sync_history", "Open the Sync History"),
            {
                content: "Open the run of Save & Sync",
                trigger: '.o_list_view .o_data_row:contains(Manual):has(td[name="integration_id"]:contains(Xero)) td[name="integration_id"]',
                run: "click",
            },
            {
                content: "The invoice was exported to Xero",
                trigger: `.o_form_view .o_field_widget[name="line_ids"] .o_data_row:contains(${invoice}):has(td[name="action"]:contains(Exported))`,
            },
        ];
    },
});

// QuickBooks Online, between JobAdder and Xero (before any London invoice: its Save & Sync imports).
// Q1. The QuickBooks integration's form: a sandbox; Connect leaves Odoo for Intuit's consent page.
tours.add("recruitment_sync_e2e_qbo_connect", {
    steps: () => [
        {
            content: "The form says the integration talks to a stand-in, not to QuickBooks",
            trigger: ".o_form_view .alert-warning:contains(Sandbox):contains(stand-in)",
        },
        {
            content: "It is not connected yet",
            trigger: '.o_form_view .o_statusbar_status button[data-value="not_connected"][aria-checked="true"]',
        },
        {
            content: "Connect opens Intuit's consent page",
            trigger: '.o_form_view .o_form_statusbar button[name="action_connect"]',
            run: "click",
        },
    ],
});

// Q2. Back from Intuit: connected to the company chosen there, named on the QuickBooks tab.
tours.add("recruitment_sync_e2e_qbo_connected", {
    steps: () => {
        const { company } = testData();
        return [
            {
                content: "The integration is connected",
                trigger: '.o_form_view .o_statusbar_status button[data-value="connected"][aria-checked="true"]',
            },
            {
                content: "Open the QuickBooks tab",
                trigger: '.o_form_view .o_notebook a[name="quickbooks"]',
                run: "click",
            },
            {
                content: "It names the company chosen on Intuit's consent page",
                trigger: `.o_form_view .o_field_widget[name="qbo_company_name"]:contains(${company})`,
            },
        ];
    },
});

// Q3. After the initial import: Save & Sync, the confirmation with its counts, Proceed.
tours.add("recruitment_sync_e2e_qbo_save_and_sync", {
    steps: () =>
        saveAndSyncSteps("action_qbo_save_and_sync", [
            confirmationCount("The confirmation counts QuickBooks' tax codes to import", "Tax codes and rates"),
        ]),
});

// Q4. The run's end is notified to the user who started it.
tours.add("recruitment_sync_e2e_qbo_notified", {
    steps: () => [
        {
            content: "The run's end is notified",
            trigger: ".o_recruitment_sync_run_notification:contains(QuickBooks)",
        },
    ],
});

// Q5. Invoicing > Sync History: the QuickBooks runs, and what the initial load brought in.
tours.add("recruitment_sync_e2e_qbo_history", {
    steps: () => [
        ...openInvoicingMenu("recruitment_sync.menu_recruitment_sync_history", "Open the Sync History"),
        {
            content: "The run of Save & Sync is listed, done",
            trigger:
                '.o_list_view .o_data_row:contains(Manual):contains(Done):has(td[name="integration_id"]:contains(QuickBooks))',
        },
        {
            content: "Open the initial load",
            trigger:
                '.o_list_view .o_data_row:contains(Initial load):has(td[name="integration_id"]:contains(QuickBooks)) td[name="integration_id"]',
            run: "click",
        },
        {
            content: "QuickBooks' customers came in",
            trigger: '.o_form_view .o_field_widget[name="line_ids"] .o_data_row:contains(Customers)',
        },
    ],
});

// 8. Customer invoices: select the Norwegian offices' invoices, Export to 24SevenOffice.
tours.add("recruitment_sync_e2e_24so_export", {
    steps: () => {
        const { invoices } = testData();
        return [
            ...openCustomerInvoices(),
            ...invoices.map((name) => ({
                content: `Select ${name}`,
                trigger: `.o_list_view .o_data_row:contains(${name}) .o_list_record_selector input`,
                run: "click",
            })),
            {
                content: "Open the actions of the selection",
                trigger: ".o_control_panel .o_cp_action_menus button:has(i.fa-cog)",
                run: "click",
            },
            {
                trigger: ".o-dropdown--menu .o_menu_item:contains(Export to 24SevenOffice)",
                run: "click",
            },
            ...invoices.map((name) => ({
                content: `The receipt shows ${name} in transfer`,
                trigger: `.o_list_view .o_data_row:contains(${name}):has(td[name="tso_status"]:contains(In transfer))`,
            })),
        ];
    },
});

// 9. The receipt follows the export: every invoice exported, with its 24SevenOffice number.
tours.add("recruitment_sync_e2e_24so_receipt", {
    steps: () => {
        const { invoices } = testData();
        return invoices.map((name) => ({
            content: `${name} is exported and numbered in 24SevenOffice`,
            trigger: `.o_list_view .o_data_row:contains(${name}):has(td[name="tso_status"]:contains(Exported)):has(td[name="tso_invoice_number"]:contains(/\\d/))`,
        }));
    },
});

// InvoiceOcean, last (its first sync finds the customers JobAdder brought). The client, document and
// "+Add invoice" steps are recruitment_sync_invoiceocean's own tours.
// I1. The administrator pastes the token and the account prefix and saves: the connection is tested.
tours.add("recruitment_sync_e2e_io_activate", {
    steps: () => {
        const { prefix, token } = testData();
        return [
            {
                content: "The form says the integration talks to a stand-in, not to InvoiceOcean",
                trigger: ".o_form_view .alert-warning:contains(Sandbox):contains(stand-in)",
            },
            {
                content: "It is not connected yet",
                trigger: '.o_form_view .o_statusbar_status button[data-value="not_connected"][aria-checked="true"]',
            },
            {
                trigger: '.o_form_view .o_notebook a[name="invoiceocean"]',
                run: "click",
            },
            {
                content: "The account's prefix",
                trigger: '.o_form_view .o_field_widget[name="io_prefix"] input',
                run: `edit ${prefix}`,
            },
            {
                content: "Paste the API token",
                trigger: '.o_form_view .o_field_widget[name="io_api_token"] input',
                run: `edit ${token}`,
            },
            {
                content: "Save: the connection is tested",
                trigger: ".o_form_view .o_form_button_save",
                run: "click",
            },
            {
                content: "Saved and connected",
                trigger:
                    '.o_form_view .o_form_saved .o_statusbar_status button[data-value="connected"][aria-checked="true"]',
            },
        ];
    },
});

// I2. After the first sync: the accounts are linked, the departments listed; register the webhooks.
tours.add("recruitment_sync_e2e_io_linked", {
    steps: () => [
        {
            content: "The first sync's end is notified",
            trigger: ".o_recruitment_sync_run_notification:contains(InvoiceOcean)",
        },
        {
            content: "InvoiceOcean's departments, to map",
            trigger: '.o_form_view button[name="action_io_view_departments"]:contains(/\\d/)',
        },
        {
            trigger: '.o_form_view .o_notebook a[name="invoiceocean"]',
            run: "click",
        },
        {
            content: "The accounts are linked",
            trigger: '.o_form_view .o_field_widget[name="io_linked_at"]:contains(/\\d/)',
        },
        {
            content: "Ask InvoiceOcean to call Odoo when a client or a document changes",
            trigger: '.o_form_view button[name="action_io_register_webhooks"]',
            run: "click",
        },
        {
            trigger: ".o_notification:contains(in the background)",
        },
    ],
});

// I3. A customer created in Odoo (it goes to InvoiceOcean with the next sync).
tours.add("recruitment_sync_e2e_io_customer", {
    steps: () => {
        const { customer } = testData();
        return [
            ...openInvoicingMenu("account.menu_finance_receivables", "Open the Customers menu"),
            {
                trigger: '[data-menu-xmlid="account.menu_account_customer"]',
                run: "click",
            },
            {
                trigger: ".o_control_panel .o-kanban-button-new, .o_control_panel .o_list_button_add",
                run: "click",
            },
            {
                trigger: '.o_form_view .o_field_widget[name="name"] input',
                run: `edit ${customer}`,
            },
            {
                trigger: ".o_form_view .o_form_button_save",
                run: "click",
            },
            {
                trigger: ".o_form_view .o_form_saved",
            },
        ];
    },
});

// 10. The sync user of the London department: that department's history only.
tours.add("recruitment_sync_e2e_department_history", {
    steps: () => [
        ...openInvoicingMenu("recruitment_sync.menu_recruitment_sync_history", "Open the Sync History"),
        {
            content: "JobAdder serves every department: its runs are listed",
            trigger: '.o_list_view .o_data_row td[name="integration_id"]:contains(JobAdder)',
        },
        {
            content: "Xero serves the London department: its runs are listed",
            trigger: '.o_list_view .o_data_row td[name="integration_id"]:contains(Xero)',
        },
        {
            content: "InvoiceOcean serves every department: its runs are listed",
            trigger: '.o_list_view .o_data_row td[name="integration_id"]:contains(InvoiceOcean)',
        },
        {
            content: "24SevenOffice serves the Norwegian offices: none of its runs is listed",
            trigger: '.o_list_view:not(:has(td[name="integration_id"]:contains(24SevenOffice)))',
        },
    ],
});
