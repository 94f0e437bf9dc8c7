/** "+Add invoice": back to the opportunity while the runner issues the invoice; when InvoiceOcean has it,
 * a notification offers to open it there (a click of the user's: browsers block pop-ups opened by code). */
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";

const POLL_MS = 1500;
const GIVE_UP_MS = 120000;

async function waitInvoice(env, action) {
    const leadId = action.params.lead_id;
    const orm = env.services.orm;
    const notification = env.services.notification;
    await env.services.action.doAction({
        type: "ir.actions.act_window",
        res_model: "crm.lead",
        res_id: leadId,
        views: [[false, "form"]],
        target: "current",
    });
    notification.add(_t("The invoice is being issued in InvoiceOcean."), { type: "info" });
    const started = Date.now();
    const poll = async () => {
        const [lead] = await orm.read("crm.lead", [leadId], ["io_view_url", "io_document_number"]);
        if (lead && lead.io_view_url) {
            const close = notification.add(_t("Invoice %s is ready in InvoiceOcean.", lead.io_document_number || ""), {
                type: "success",
                sticky: true,
                buttons: [
                    {
                        name: _t("Open in InvoiceOcean"),
                        primary: true,
                        onClick: () => {
                            window.open(lead.io_view_url, "_blank", "noopener");
                            close();
                        },
                    },
                ],
            });
            await env.services.action.doAction("soft_reload");
            return;
        }
        if (Date.now() - started < GIVE_UP_MS) {
            setTimeout(poll, POLL_MS);
        }
    };
    setTimeout(poll, POLL_MS);
}

registry.category("actions").add("recruitment_sync_invoiceocean.wait_invoice", waitInvoice);
