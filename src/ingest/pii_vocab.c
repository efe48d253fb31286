/* Word lists behind PII detection: medical terms, street suffixes and unit words, common
 * given names, business words and month names. Each list is sorted (bytewise, lowercase) so
 * a lookup is a binary search; a unit test checks the order. */
#include <stdlib.h>
#include <string.h>

#include "ingest/ingest_int.h"

/* Diagnoses, medications and procedures that are unambiguous in business data: words with a
 * common everyday sense ("depression", "stroke", "cold", "pressure") are left out on purpose,
 * because one of them in a comments column must not make it medical. */
static const char *const medical[] = {
    "acetaminophen", "adhd", "albuterol", "alzheimer", "alzheimers", "amlodipine",
    "amoxicillin", "anaemia", "anemia", "angina", "angioplasty", "antibiotic", "antibiotics",
    "antidepressant", "appendectomy", "arrhythmia", "arthritis", "arthroscopy", "aspirin",
    "asthma", "atorvastatin", "autism", "azithromycin", "biopsy", "bronchitis", "bupropion",
    "carcinoma", "cardiomyopathy", "cataract", "cellulitis", "chemo", "chemotherapy",
    "chlamydia", "cholecystectomy", "cirrhosis", "citalopram", "clopidogrel", "colitis",
    "colonoscopy", "concussion", "copd", "covid", "crohn", "crohns", "dementia", "dermatitis",
    "diabetes", "diabetic", "diagnosed", "dialysis", "diclofenac", "eczema", "ekg", "embolism",
    "emphysema", "endometriosis", "endoscopy", "epilepsy", "escitalopram", "fentanyl",
    "fibromyalgia", "fluoxetine", "gabapentin", "gastritis", "gastroenteritis", "glaucoma",
    "gonorrhea", "gout", "heparin", "hepatitis", "hiv", "hydrochlorothiazide", "hydrocodone",
    "hyperlipidemia", "hypertension", "hyperthyroidism", "hypoglycemia", "hypothyroidism",
    "hysterectomy", "ibuprofen", "influenza", "insulin", "ischemia", "leukemia",
    "levothyroxine", "lisinopril", "losartan", "lupus", "lymphoma", "mammogram", "mastectomy",
    "melanoma", "meningitis", "metformin", "methotrexate", "metoprolol", "migraine",
    "migraines", "morphine", "naproxen", "neuropathy", "obesity", "omeprazole", "oncology",
    "osteoarthritis", "osteoporosis", "oxycodone", "pancreatitis", "paracetamol", "parkinson",
    "parkinsons", "pharyngitis", "pneumonia", "prednisone", "prescribed", "psoriasis",
    "radiotherapy", "schizophrenia", "scoliosis", "seizure", "seizures", "sepsis", "sertraline",
    "simvastatin", "sinusitis", "statin", "syphilis", "tachycardia", "tonsillitis", "tramadol",
    "trazodone", "tuberculosis", "tumor", "tumour", "ulcer", "vaccination", "warfarin",
};

/* Street type words, full and abbreviated (USPS Publication 28 plus common UK ones). */
static const char *const street_suffix[] = {
    "alley", "aly", "ave", "avenue", "blvd", "boulevard", "cir", "circle", "close", "court",
    "cres", "crescent", "ct", "dr", "drive", "expressway", "expy", "freeway", "fwy", "highway",
    "hwy", "lane", "ln", "loop", "parkway", "pike", "pkwy", "pl", "place", "plaza", "plz", "rd",
    "road", "row", "sq", "square", "st", "street", "ter", "terrace", "trail", "trl", "way",
};

/* Words that may follow a street suffix inside an address: units and compass points. */
static const char *const street_tail[] = {
    "apartment", "apt", "bldg", "building", "e", "east", "fl", "floor", "n", "ne", "north",
    "nw", "rm", "room", "s", "se", "south", "ste", "suite", "sw", "unit", "w", "west",
};

/* Common given names (US census and SSA lists, plus frequent European ones). Used only to
 * decide whether a column called just "name" holds people rather than companies/products. */
static const char *const given_name[] = {
    "aaron", "adam", "adrian", "ahmed", "aisha", "alan", "albert", "alex", "alexander", "alice",
    "alicia", "allison", "amanda", "amber", "amy", "ana", "andrea", "andrew", "angela", "ann",
    "anna", "anne", "anthony", "antonio", "arthur", "ashley", "barbara", "benjamin", "betty",
    "beverly", "bobby", "brandon", "brenda", "brian", "brittany", "bruce", "bryan", "carl",
    "carlos", "carol", "carolyn", "catherine", "charles", "cheryl", "christian", "christina",
    "christine", "christopher", "cynthia", "daniel", "david", "deborah", "debra", "dennis",
    "diana", "diane", "donald", "donna", "dorothy", "douglas", "dylan", "edward", "elena",
    "elizabeth", "emily", "emma", "eric", "ethan", "eugene", "evelyn", "frances", "frank",
    "gabriel", "gary", "george", "gerald", "gloria", "grace", "gregory", "hannah", "harold",
    "heather", "helen", "henry", "isabella", "jack", "jacob", "jacqueline", "james", "jane",
    "janet", "janice", "jason", "javier", "jean", "jeffrey", "jennifer", "jeremy", "jerry",
    "jessica", "joan", "joe", "john", "jonathan", "jordan", "jose", "joseph", "joshua", "joyce",
    "juan", "judith", "judy", "julia", "julie", "justin", "karen", "katherine", "kathleen",
    "kathryn", "kayla", "keith", "kelly", "kenneth", "kevin", "kimberly", "kyle", "larry",
    "laura", "lauren", "lawrence", "liam", "linda", "lisa", "logan", "louis", "lucas", "luis",
    "madison", "margaret", "maria", "marie", "marilyn", "mark", "martha", "mary", "matthew",
    "megan", "melissa", "michael", "michelle", "mohammed", "muhammad", "nancy", "natalie",
    "nathan", "nicholas", "nicole", "noah", "olivia", "pamela", "patricia", "patrick", "paul",
    "peter", "priya", "rachel", "ralph", "raymond", "rebecca", "richard", "robert", "roger",
    "ronald", "rose", "roy", "russell", "ruth", "ryan", "samantha", "samuel", "sandra", "sara",
    "sarah", "scott", "sean", "sharon", "shirley", "sophia", "stephanie", "stephen", "steven",
    "susan", "teresa", "terry", "thomas", "timothy", "tyler", "victoria", "vincent", "virginia",
    "walter", "wei", "william", "willie", "zachary",
};

/* Words that mark an organisation or a product, never a person. */
static const char *const business[] = {
    "bank", "brands", "co", "company", "corp", "corporation", "edition", "enterprises", "foods",
    "foundation", "gmbh", "group", "holdings", "inc", "industries", "international", "kit",
    "labs", "limited", "llc", "llp", "ltd", "max", "mini", "motors", "pack", "partners", "plc",
    "plus", "pro", "services", "set", "shop", "solutions", "store", "studio", "systems", "tech",
    "technologies", "the", "ventures",
};

static const char *const month[] = {
    "apr", "april", "aug", "august", "dec", "december", "feb", "february", "jan", "january",
    "jul", "july", "jun", "june", "mar", "march", "may", "nov", "november", "oct", "october",
    "sep", "sept", "september",
};

/* Words a compound column name is split into ("dateofbirth" -> date of birth,
 * "homephone" -> home phone); a token splits only when every piece is in this list. */
static const char *const name_part[] = {
    "addr", "address", "addresses", "alt", "annual", "applicant", "base", "billing", "birth",
    "birthdate", "birthday", "born", "candidate", "card", "cell", "cellphone", "client", "code",
    "contact", "credit", "current", "date", "day", "debit", "desired", "diagnosis", "dob",
    "email", "emails", "emergency", "employee", "expected", "family", "fax", "first",
    "firstname", "forename", "full", "fullname", "given", "givenname", "gross", "holder",
    "home", "hourly", "income", "ip", "last", "lastname", "line", "maiden", "mail", "mailing",
    "medical", "medication", "middle", "mobile", "msisdn", "name", "names", "net", "no", "num",
    "number", "of", "office", "patient", "pay", "personal", "phone", "postal", "primary",
    "rate", "remote", "residential", "salary", "secondary", "security", "shipping", "social",
    "ssn", "street", "surname", "tel", "telephone", "wage", "work", "zip",
};

typedef struct vocab {
    const char *const *words;
    size_t n;
} vocab;

#define VOCAB(a) {a, sizeof a / sizeof a[0]}
static const vocab lists[LH_PII_VOCAB_COUNT] = {
    [LH_PII_VOCAB_MEDICAL] = VOCAB(medical),
    [LH_PII_VOCAB_STREET_SUFFIX] = VOCAB(street_suffix),
    [LH_PII_VOCAB_STREET_TAIL] = VOCAB(street_tail),
    [LH_PII_VOCAB_GIVEN_NAME] = VOCAB(given_name),
    [LH_PII_VOCAB_BUSINESS] = VOCAB(business),
    [LH_PII_VOCAB_MONTH] = VOCAB(month),
    [LH_PII_VOCAB_NAME_PART] = VOCAB(name_part),
};

static int cmp_word(const void *key, const void *elem)
{
    return strcmp((const char *)key, *(const char *const *)elem);
}

bool lh_ingest__pii_vocab_has(lh_pii_vocab v, const char *w, size_t n)
{
    char low[48];
    if ((unsigned)v >= LH_PII_VOCAB_COUNT || n == 0 || n >= sizeof low)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)w[i];
        low[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    low[n] = '\0';
    return bsearch(low, lists[v].words, lists[v].n, sizeof lists[v].words[0], cmp_word) != NULL;
}

int lh_ingest__pii_vocab_check(void)
{
    for (int v = 0; v < LH_PII_VOCAB_COUNT; v++)
        for (size_t i = 1; i < lists[v].n; i++)
            if (strcmp(lists[v].words[i - 1], lists[v].words[i]) >= 0)
                return v;
    return -1;
}
