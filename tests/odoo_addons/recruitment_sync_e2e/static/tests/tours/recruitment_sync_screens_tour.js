import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// The screens as each sandbox user sees them (test_screens.py). Checks of layout read the
// positions the browser computed, as a person's eye would.

const tours = registry.category("web_tour.tours");

function fail(message) {
    throw new Error(message);
}

function rect(element) {
    return element.getBoundingClientRect();
}

const COUNTERS = ["created_count", "updated_count", "exported_count", "skipped_count", "failed_count"];

// The run form: each Outcome counter on the line of its own label, right after it; kinds in words.
tours.add("recruitment_sync_screens_run_form", {
    steps: () => [
        {
            content: "The run form shows its Outcome",
            trigger: '.o_form_view .o_field_widget[name="failed_count"]',
        },
        {
            content: "Each counter sits next to its own label",
            trigger: '.o_form_view .o_field_widget[name="created_count"]',
            run() {
                const labels = COUNTERS.map((name) =>
                    document.querySelector(`.o_form_view label.o_form_label[for="${name}_0"]`)
                );
                COUNTERS.forEach((name, index) => {
                    const field = document.querySelector(`.o_form_view .o_field_widget[name="${name}"]`);
                    const label = labels[index];
                    if (!field || !label) {
                        fail(`No label or value for ${name}`);
                    }
                    const [l, f] = [rect(label), rect(field)];
                    if (Math.abs(l.top + l.height / 2 - (f.top + f.height / 2)) > 8) {
                        fail(`${label.textContent} and its value are not on one line`);
                    }
                    if (f.left < l.left) {
                        fail(`The value of ${label.textContent} is not after its label`);
                    }
                    for (const other of labels) {
                        const o = rect(other);
                        const between = o.left >= l.right - 1 && o.right <= f.left + 1;
                        if (other !== label && Math.abs(o.top - l.top) < 8 && between) {
                            fail(`${other.textContent} stands between ${label.textContent} and its value`);
                        }
                    }
                });
            },
        },
        {
            content: "One end state in the status bar, never Done and Done with errors together",
            trigger: ".o_form_view .o_statusbar_status",
            run() {
                const values = [...document.querySelectorAll(".o_form_view .o_statusbar_status button")].map(
                    (button) => button.dataset.value
                );
                if (values.includes("done") && values.includes("done_errors")) {
                    fail(`The status bar shows ${values.join(", ")}`);
                }
            },
        },
        {
            content: "Run lines say what kind of record each is, in words",
            trigger: '.o_form_view .o_field_widget[name="line_ids"] td[name="kind_label"]:contains(Placements)',
            run() {
                const kinds = [...document.querySelectorAll('.o_field_widget[name="line_ids"] td[name="kind_label"]')].map(
                    (cell) => cell.textContent.trim()
                );
                const codes = kinds.filter((kind) => /^[a-z_]+$/.test(kind));
                if (codes.length) {
                    fail(`Run lines show codes: ${codes.join(", ")}`);
                }
            },
        },
        {
            content: "No access error",
            trigger: "body:not(:has(.o_error_dialog))",
        },
    ],
});

// Placements: the JobAdder id as an id; grouped, the ids are not added up.
tours.add("recruitment_sync_screens_placements", {
    steps: () => [
        {
            content: "A placement's JobAdder id has no thousands separator",
            trigger: '.o_list_view .o_data_row td[name="jobadder_id"]',
            run() {
                const ids = [...document.querySelectorAll('.o_data_row td[name="jobadder_id"]')].map((cell) =>
                    cell.textContent.trim()
                );
                const formatted = ids.filter((id) => !/^\d+$/.test(id));
                if (formatted.length) {
                    fail(`JobAdder ids shown as numbers: ${formatted.join(" ")}`);
                }
            },
        },
    ],
});

tours.add("recruitment_sync_screens_placements_grouped", {
    steps: () => [
        {
            content: "Open the search options",
            trigger: ".o_control_panel .o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            content: "Group the placements by type",
            trigger: ".o_group_by_menu .o_menu_item:contains(Type)",
            run: "click",
        },
        {
            content: "The groups do not add JobAdder ids up",
            trigger: ".o_list_view .o_group_header",
            run() {
                for (const header of document.querySelectorAll(".o_list_view .o_group_header")) {
                    const cells = [...header.querySelectorAll("td")].filter((cell) => cell.textContent.trim());
                    if (cells.some((cell) => /\d{3}/.test(cell.textContent))) {
                        fail(`A group adds up: ${header.textContent.trim()}`);
                    }
                }
            },
        },
        {
            content: "No access error",
            trigger: "body:not(:has(.o_error_dialog))",
        },
    ],
});

// The integration form while a run goes on, then (the test ends the run) after it, without a reload.
tours.add("recruitment_sync_screens_integration_running", {
    steps: () => [
        {
            content: "The form shows the run running, with its progress",
            trigger: '.o_form_view .o_field_widget[name="last_run_state"]:contains(Running)',
        },
        {
            trigger: '.o_form_view .o_field_widget[name="last_run_progress"]:contains(120 of 200)',
        },
    ],
});

tours.add("recruitment_sync_screens_integration_done", {
    steps: () => [
        {
            content: "The form follows the run to its end, without a reload",
            trigger: '.o_form_view .o_field_widget[name="last_run_state"]:contains(Done)',
        },
        {
            trigger: '.o_form_view:not(:has(.o_field_widget[name="last_run_progress"]))',
        },
    ],
});

// Consultant pairing: Create user asks first, then tells that the invitation went out.
tours.add("recruitment_sync_screens_create_user", {
    steps: () => [
        {
            content: "Create a user for a consultant with an email and no Odoo user",
            trigger:
                '.o_list_view .o_data_row:has(td[name="email"]:contains(@)) button[name="action_create_user"]',
            run: "click",
        },
        {
            content: "The user is asked to confirm: an internal user is created and invited",
            trigger: ".modal:contains(invitation) .modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "The invitation is said to be sent",
            trigger: ".o_notification:contains(invitation)",
        },
    ],
});

// The 24SevenOffice receipt: one line a row, the reason readable, the login shown.
tours.add("recruitment_sync_screens_receipt", {
    steps: () => [
        {
            trigger: '.o_form_view button[name="action_tso_receipt"]',
            run: "click",
        },
        {
            content: "The receipt lists the invoices, exported",
            trigger: '.o_list_view .o_data_row td[name="tso_status"]:contains(Exported)',
        },
        {
            content: "Each row is one line of normal height, the login shown",
            trigger: '.o_list_view .o_data_row td[name="tso_login"]:contains(@)',
            run() {
                for (const row of document.querySelectorAll(".o_list_view .o_data_row")) {
                    if (rect(row).height > 45) {
                        fail(`A receipt row is ${Math.round(rect(row).height)} px tall`);
                    }
                }
                const reason = document.querySelector('.o_list_view th[data-name="reason"]');
                if (!reason || rect(reason).width < 300) {
                    fail("The reason column is too narrow to read");
                }
            },
        },
    ],
});

// The sync user of the London department: no action she cannot take, no access error.
tours.add("recruitment_sync_screens_department_user", {
    steps: () => [
        ...stepUtils.goToAppSteps("account.menu_finance", "Open the Invoicing app"),
        {
            trigger: '[data-menu-xmlid="recruitment_sync.menu_recruitment_sync_root"]',
            run: "click",
        },
        {
            trigger: '[data-menu-xmlid="recruitment_sync_24so.menu_recruitment_sync_24so"]',
            run: "click",
        },
        {
            content: "24SevenOffice serves other departments: nothing to create, and not invited to",
            trigger: ".o_action_manager .o_view_nocontent:contains(No 24SevenOffice integration serves your departments)",
        },
        {
            trigger: ".o_control_panel:not(:has(.o_list_button_add))",
        },
        {
            trigger: '[data-menu-xmlid="recruitment_sync.menu_recruitment_sync_root"]',
            run: "click",
        },
        {
            trigger: '[data-menu-xmlid="recruitment_sync.menu_recruitment_sync_integrations"]',
            run: "click",
        },
        {
            content: "Integrations are listed, and she cannot create one: no New button",
            trigger: '.o_list_view .o_data_row td[name="name"]:contains(JobAdder)',
        },
        {
            trigger: ".o_control_panel:not(:has(.o_list_button_add))",
        },
        {
            content: "Open the JobAdder integration",
            trigger: '.o_list_view .o_data_row td[name="name"]:contains(JobAdder)',
            run: "click",
        },
        {
            content: "No Connect or Disconnect for her, and no access error",
            trigger:
                '.o_form_view .o_form_statusbar:not(:has(button[name="action_connect"])):not(:has(button[name="action_disconnect"]))',
        },
        {
            trigger: '.o_form_view button[name="action_view_runs"]',
            run: "click",
        },
        {
            content: "Open the initial load",
            trigger: '.o_list_view .o_data_row td[name="trigger"]:contains(Initial load)',
            run: "click",
        },
        {
            content: "Lines of records out of her reach can neither be opened nor name the record",
            trigger: '.o_form_view .o_field_widget[name="line_ids"] .o_data_row',
            run() {
                const rows = document.querySelectorAll('.o_field_widget[name="line_ids"] .o_data_row');
                for (const row of rows) {
                    const hidden = row.querySelector('td[name="record_label"]').textContent.includes("Another department");
                    if (hidden && row.querySelector('button[name="action_open_record"]')) {
                        fail("A line of another department's record can be opened");
                    }
                }
            },
        },
        {
            content: "A line she may open opens its record, without an access error",
            trigger: '.o_form_view .o_field_widget[name="line_ids"] .o_data_row button[name="action_open_record"]',
            run: "click",
        },
        {
            trigger: ".o_control_panel .o_breadcrumb .breadcrumb-item",
        },
        {
            trigger: "body:not(:has(.o_error_dialog))",
        },
    ],
});

// In Norwegian: select the Norwegian offices' invoices and export them to 24SevenOffice.
tours.add("recruitment_sync_screens_24so_export_nb", {
    steps: () => {
        const invoices = (sessionStorage.getItem("recruitment_sync_screens") || "").split(",");
        return [
            ...invoices.map((name) => ({
                content: `Select ${name}`,
                trigger: `.o_list_view .o_data_row:contains(${name}) .o_list_record_selector input`,
                run: "click",
            })),
            {
                trigger: ".o_control_panel .o_cp_action_menus button:has(i.fa-cog)",
                run: "click",
            },
            {
                content: "The action speaks Norwegian",
                trigger: ".o-dropdown--menu .o_menu_item:contains(Eksporter til 24SevenOffice)",
                run: "click",
            },
            ...invoices.map((name) => ({
                content: `The receipt shows ${name} in transfer, in Norwegian`,
                trigger: `.o_list_view .o_data_row:contains(${name}):has(td[name="tso_status"]:contains(Under overføring))`,
            })),
            {
                trigger: ".o_list_view th:contains(Årsak)",
            },
        ];
    },
});

tours.add("recruitment_sync_screens_24so_receipt_nb", {
    steps: () => {
        const invoices = (sessionStorage.getItem("recruitment_sync_screens") || "").split(",");
        return invoices.map((name) => ({
            content: `${name} is exported ("Eksportert")`,
            trigger: `.o_list_view .o_data_row:contains(${name}):has(td[name="tso_status"]:contains(Eksportert))`,
        }));
    },
});
