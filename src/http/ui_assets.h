/* The web UI's files, embedded in the binary at build time (tools/embed_assets.c generates
 * the table from src/http/ui/). Read-only static data: any thread may read it. Private to the
 * http module (routes_ui.c serves it). */
#ifndef LH_HTTP_UI_ASSETS_H
#define LH_HTTP_UI_ASSETS_H

#include <stddef.h>

typedef struct lh_ui_asset {
    const char *path;           /* relative to src/http/ui/: "index.html", "js/app.js" */
    const char *content_type;   /* with charset for text */
    const unsigned char *data;  /* len bytes (plus a NUL that is not part of the file) */
    size_t len;
    const char *etag;           /* quoted strong validator: "\"0123456789abcdef\"" */
} lh_ui_asset;

extern const lh_ui_asset lh_ui_assets[];
extern const size_t lh_ui_nassets;

#endif
