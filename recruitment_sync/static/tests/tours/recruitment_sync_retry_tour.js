import { registry } from "@web/core/registry";

// A run with a failed item: Retry failed items queues a new run of exactly that item, and
// the user lands on it.
registry.category("web_tour.tours").add("recruitment_sync_retry_failed_items", {
    steps: () => [
        {
            content: "Retry failed items",
            trigger: '.o_form_view button[name="action_retry_failed_items"]',
            run: "click",
        },
        {
            content: "The user is told the retry runs in the background",
            trigger: ".o_notification:contains(Retry queued)",
        },
        {
            content: "The new run is a retry run, queued",
            trigger: ".o_form_view .o_field_widget[name=trigger]:contains(Retry failed items)",
        },
        {
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains(Queued)",
        },
    ],
});
