import { Component, onMounted, onWillUnmount } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { standardWidgetProps } from "@web/views/widgets/standard_widget_props";

/**
 * Keeps a form in step with background sync runs: the server announces on the bus
 * ("recruitment_sync/run_progress", ids only) each batch, start and end of a run; a form showing
 * that run or its integration reloads its record through the ORM, unless the user is editing it.
 *
 *     <widget name="recruitment_sync_live_reload" options="{'match': 'run'}"/>  (default: the integration)
 */
export class SyncRunLiveReload extends Component {
    static template = "recruitment_sync.SyncRunLiveReload";
    static props = { ...standardWidgetProps, match: { type: String, optional: true } };

    setup() {
        this.busService = useService("bus_service");
        this.onRunProgress = (payload) => this.reloadIfConcerned(payload);
        onMounted(() => this.busService.subscribe("recruitment_sync/run_progress", this.onRunProgress));
        onWillUnmount(() => this.busService.unsubscribe("recruitment_sync/run_progress", this.onRunProgress));
    }

    async reloadIfConcerned({ run_id, integration_id }) {
        const record = this.props.record;
        const id = this.props.match === "run" ? run_id : integration_id;
        if (!record.resId || record.resId !== id || this.reloading || (await record.isDirty())) {
            return;
        }
        this.reloading = true;
        try {
            await record.load();
        } finally {
            this.reloading = false;
        }
    }
}

registry.category("view_widgets").add("recruitment_sync_live_reload", {
    component: SyncRunLiveReload,
    extractProps: ({ options }) => ({ match: options.match }),
});
