/* Functions we never call: each has a bounded or checked replacement (see STYLE §9).
 * Included from core.h, so every module gets it. */
#ifndef LH_BANNED_H
#define LH_BANNED_H

#define LH_BANNED(f) sorry_##f##_is_banned_use_the_lh_replacement

#undef sprintf
#define sprintf(...) LH_BANNED(sprintf)
#undef strcpy
#define strcpy(...) LH_BANNED(strcpy)
#undef strcat
#define strcat(...) LH_BANNED(strcat)
#undef strncpy
#define strncpy(...) LH_BANNED(strncpy)
#undef strtok
#define strtok(...) LH_BANNED(strtok)
#undef atoi
#define atoi(...) LH_BANNED(atoi)
#undef gets
#define gets(...) LH_BANNED(gets)

#endif
