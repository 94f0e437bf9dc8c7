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
