import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// Steps the tours of the core, its connectors and the end-to-end test share. A connector's tour
// imports them from "@recruitment_sync/../tests/tours/tour_steps" (web.assets_tests).

/** Invoicing > the menu ``menuXmlid``. */
export function openInvoicingMenu(menuXmlid, content) {
    return [
        ...stepUtils.goToAppSteps("account.menu_finance", "Open the Invoicing app"),
        {
            content,
            trigger: `[data-menu-xmlid="${menuXmlid}"]`,
            run: "click",
        },
    ];
}

/** The sync confirmation's row ``label`` counts ``count`` records (any number when left out). */
export function confirmationCount(content, label, count) {
    const number = count === undefined ? "\\d+" : String(count);
    return {
        content,
        trigger: `.modal .o_data_row:contains(${label}):has(td[name="count_display"]:contains(/^\\s*${number}\\s*$/))`,
    };
}

/** Proceed on the sync confirmation: the run is queued and the user told so. */
export function proceedSteps() {
    return [
        {
            trigger: '.modal button[name="action_proceed"]',
            run: "click",
        },
        {
            content: "The user is told the sync runs in the background",
            trigger: ".o_notification:contains(Sync queued)",
        },
    ];
}

/** Save & Sync on an integration's form (``button``: the connector's action), the confirmation's
 * ``counts`` (``confirmationCount`` steps), Proceed. */
export function saveAndSyncSteps(button, counts) {
    return [
        {
            content: "Save & Sync",
            trigger: `.o_form_view .o_form_statusbar button[name="${button}"]`,
            run: "click",
        },
        ...counts,
        ...proceedSteps(),
    ];
}

/** The run's end is notified (with ``text``, e.g. its state); the notification opens the run. */
export function openNotifiedRunSteps(text) {
    return [
        {
            content: "The end of the run is notified, with whether it succeeded",
            trigger: `.o_recruitment_sync_run_notification:contains(${text})`,
        },
        {
            content: "Open the run from the notification",
            trigger: ".o_recruitment_sync_run_notification button:contains(Open the run)",
            run: "click",
        },
    ];
}

/** On the open run's form: a line whose action is ``action`` and that contains ``text``. */
export function runLine(content, action, text) {
    return {
        content,
        trigger: `.o_form_view .o_field_widget[name="line_ids"] .o_data_row:has(td[name="action"]:contains(${action})):contains(${text})`,
    };
}

/**
 * The two tours of an accounting connector's Save & Sync journey (``SaveAndSyncJourney`` in
 * recruitment_sync/tests/accounting.py: two invoices of one new customer, one of them with a tax
 * the provider has no mapping for), in one browser session with the run processed between them:
 *
 * - ``<prefix>_save_and_sync``, on the integration's form: ``formSteps``, then Save & Sync
 *   (``button``), the confirmation counting the invoices, the new customer and ``settingsCount``
 *   (a ``confirmationCount`` of the provider's settings to import), Proceed;
 * - ``<prefix>_notified``: the run's notification, the run with its failed invoice (its tax has no
 *   ``taxMapping``, e.g. "Xero tax rate") and its exported one (a line with ``exportedText``), then
 *   Sync History listing the run of ``integration`` (its name).
 */
export function addSaveAndSyncJourney(prefix, journey) {
    const { provider, formSteps, button, settingsCount, taxMapping, exportedText, integration } = journey;
    const tours = registry.category("web_tour.tours");
    tours.add(`${prefix}_save_and_sync`, {
        steps: () => [
            ...formSteps,
            ...saveAndSyncSteps(button, [
                confirmationCount("The confirmation counts the invoices about to be exported", "Sales invoices", 2),
                confirmationCount(`... and the customers ${provider} does not have yet`, "Customers the invoices need", 1),
                settingsCount,
            ]),
        ],
    });
    tours.add(`${prefix}_notified`, {
        steps: () => [
            ...openNotifiedRunSteps("Done with errors"),
            runLine(`The failed invoice says which tax has no ${taxMapping}`, "Failed", `has no ${taxMapping}`),
            runLine(`The other invoice went to ${provider}`, "Exported", exportedText),
            ...openInvoicingMenu("recruitment_sync.menu_recruitment_sync_history", "Open the Sync History"),
            {
                content: "The run is listed, done with errors",
                trigger: `.o_list_view .o_data_row:contains(${integration}):contains(Manual):contains(Done with errors)`,
            },
        ],
    });
}
