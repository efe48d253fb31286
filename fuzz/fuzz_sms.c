/* libFuzzer target for the chat/SMS line parser: every shape and day/month order over any
 * bytes must parse or decline, never crash, and a parsed message must point inside the line. */
#include <stdint.h>
#include <stdlib.h>

#include "ingest/ingest_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *line = (const char *)data;
    for (int s = LH_SMS_NONE + 1; s < LH_SMS_SHAPE_COUNT; s++) {
        for (int o = LH_SMS_ORDER_ANY; o <= LH_SMS_MONTH_FIRST; o++) {
            lh_sms_msg msg;
            if (!lh_ingest__sms_parse((lh_sms_shape)s, (lh_sms_order)o, line, size, &msg))
                continue;
            if (msg.sender && (msg.sender < line || msg.sender > line + size))
                abort();
        }
    }
    return 0;
}
