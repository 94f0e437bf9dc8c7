import { onMounted, onWillUnmount } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { listView } from "@web/views/list/list_view";
import { ListController } from "@web/views/list/list_controller";

// How often the receipt reloads while invoices are still in transfer (a fallback: the server
// also tells it after every batch, on the bus).
const RELOAD_MS = 3000;

/**
 * The receipt of an export to 24SevenOffice: it follows the export as it progresses. It reloads
 * when the server says the run moved on ("recruitment_sync/run_progress") or ended
 * ("recruitment_sync/run_done"), and every few seconds while a line is in transfer.
 */
export class TsoReceiptListController extends ListController {
    setup() {
        super.setup();
        this.busService = this.env.services.bus_service;
        this.onServerNews = () => this.reload();
        onMounted(() => {
            this.busService.subscribe("recruitment_sync/run_done", this.onServerNews);
            this.busService.subscribe("recruitment_sync/run_progress", this.onServerNews);
            this.timer = setInterval(() => {
                if (this.hasLinesInTransfer()) {
                    this.reload();
                }
            }, RELOAD_MS);
        });
        onWillUnmount(() => {
            clearInterval(this.timer);
            this.busService.unsubscribe("recruitment_sync/run_done", this.onServerNews);
            this.busService.unsubscribe("recruitment_sync/run_progress", this.onServerNews);
        });
    }

    hasLinesInTransfer() {
        return this.model.root.records.some((record) => record.data.tso_status === "in_transfer");
    }

    async reload() {
        if (this.reloading) {
            return;
        }
        this.reloading = true;
        try {
            await this.model.root.load();
        } finally {
            this.reloading = false;
        }
    }
}

registry.category("views").add("tso_receipt_list", {
    ...listView,
    Controller: TsoReceiptListController,
});
