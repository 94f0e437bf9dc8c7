import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";

/**
 * Shows the end of a background sync run to the user who started it, with a button that
 * opens the run in the sync history. The server sends "recruitment_sync/run_done" on the
 * user's bus channel after the run's transaction is committed.
 */
export const syncRunNotificationService = {
    dependencies: ["bus_service", "notification", "action"],
    start(env, { bus_service, notification, action }) {
        bus_service.subscribe("recruitment_sync/run_done", ({ run_id, title, message, type, sticky }) => {
            const close = notification.add(message || "", {
                title,
                type: type || "info",
                // Failures and runs with errors stay until dismissed.
                sticky: sticky ?? type !== "success",
                className: "o_recruitment_sync_run_notification",
                buttons: [
                    {
                        name: _t("Open the run"),
                        primary: true,
                        onClick: () => {
                            close();
                            action.doAction({
                                type: "ir.actions.act_window",
                                res_model: "recruitment.sync.run",
                                res_id: run_id,
                                views: [[false, "form"]],
                            });
                        },
                    },
                ],
            });
        });
        bus_service.start();
    },
};

registry.category("services").add("recruitment_sync_run_notification", syncRunNotificationService);
