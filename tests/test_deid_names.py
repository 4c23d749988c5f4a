"""Names (Safe-Harbor identifier A): patients, clinicians, relatives; labelled fields, titles,
signatures, lists, ALL-CAPS, initials; and the clinical words that must stay."""

from __future__ import annotations

import pytest
from deid_helpers import found, leaked, typed

from clinical.deid.lexicons import clinical_vocabulary, person_names
from clinical.deid.recognizers import (
    ContextNameRecognizer,
    LabelledNameRecognizer,
    NameLexiconRecognizer,
    NameShapeRecognizer,
    is_clinical_phrase,
    is_clinical_term,
)


@pytest.mark.parametrize(
    ("recognizer_cls", "text", "expected"),
    [
        (LabelledNameRecognizer, "Patient: Lee, Lisa    MRN: 123", ["Lee, Lisa"]),
        (LabelledNameRecognizer, "Attending: Dr. Joseph\n\nLisa was seen", ["Joseph"]),
        (LabelledNameRecognizer, "Electronically signed by Dr. Mcdowell, MD on", ["Mcdowell"]),
        (LabelledNameRecognizer, "Patient name: Ann-Marie O'Neil\nDOB", ["Ann-Marie O'Neil"]),
        (LabelledNameRecognizer, "seen with Mrs. Wade today", ["Wade"]),
        (LabelledNameRecognizer, "Emergency contact: Tom Baker (son)", ["Tom Baker"]),
        (LabelledNameRecognizer, "Name:    hyuuma t. maida\nAddress:", ["hyuuma t. maida"]),
        (LabelledNameRecognizer, "join accounts with ms. Quinzia", ["Quinzia"]),
        (LabelledNameRecognizer, "my name is olga krylova", ["olga krylova"]),
        (LabelledNameRecognizer, "Her maiden name is Sandgreen", ["Sandgreen"]),
        (LabelledNameRecognizer, "wife Mary at bedside", ["Mary"]),
        (LabelledNameRecognizer, "discussed with son, John, and Dr. Lee", ["John", "Lee"]),
        (LabelledNameRecognizer, "Signed: J. Smith, RN", ["J. Smith"]),
        (LabelledNameRecognizer, "Given to Jeffrey Hughes, LPN", ["Jeffrey Hughes"]),
        (LabelledNameRecognizer, "-- A. Bray, PA-C", ["A. Bray"]),
        (LabelledNameRecognizer, "Dictated by Zoltán Kovács\n", ["Zoltán Kovács"]),
        (NameLexiconRecognizer, "Care team: Reyes, Castaneda and Hughes", ["Reyes", "Castaneda", "Hughes"]),
        (NameLexiconRecognizer, "SMITH, JOHN admitted overnight", ["SMITH", "JOHN"]),
        (NameLexiconRecognizer, "they had 3: silvana, adam and caleb.", ["silvana", "adam", "caleb"]),
        (NameLexiconRecognizer, "Juliusz A Kwiatkowski lives here", ["Juliusz A Kwiatkowski"]),
        (NameLexiconRecognizer, "songwriter Zoe Young employs", ["Zoe Young"]),
        (LabelledNameRecognizer, "Hello, this is Dr. Kyle Kuefer", ["Kyle Kuefer"]),
        (LabelledNameRecognizer, "dtr Henrike at bedside", ["Henrike"]),
        (ContextNameRecognizer, "Spoke with Anneliese re: plan, paged Okonkwo.", ["Anneliese", "Okonkwo"]),
        (ContextNameRecognizer, "per Ortiz, hold heparin; accompanied by Lee Ann", ["Ortiz", "Lee Ann"]),
        (ContextNameRecognizer, "notified dr ramos of SBP 80s", ["ramos"]),
        (ContextNameRecognizer, "spoke with wife mary re plan, paged tomasz.", ["mary", "tomasz"]),
        (NameShapeRecognizer, "Tomomi Nishiyama was admitted", ["Tomomi", "Nishiyama"]),
        (NameShapeRecognizer, "visited by Gelencsér and Wisława", ["Gelencsér", "Wisława"]),
        # lower-case listed names that are no English word, alone, with an unlisted surname or an initial
        (NameLexiconRecognizer, "per notes jarmila had visited twice", ["jarmila"]),
        (NameLexiconRecognizer, "ingeborg hrdlicka is the hcp", ["ingeborg hrdlicka"]),
        (NameLexiconRecognizer, "seen by wojciech k. novak today", ["wojciech k. novak"]),
        (NameLexiconRecognizer, "kids: radomir, henrike and tomek", ["radomir, henrike", "tomek"]),
        (NameLexiconRecognizer, "Erik-Oskar visited", ["Erik-Oskar"]),
        (LabelledNameRecognizer, "her kid Oskar visited", ["Oskar"]),
        (ContextNameRecognizer, "wojciech's daughter called back", ["wojciech"]),
        (ContextNameRecognizer, 'ingrid: "where am i?"\nRN: "in hospital"', ["ingrid"]),
        (NameShapeRecognizer, "Ciset lives on Rua Mina. You're welcome.", ["Ciset"]),
        # names that are also English, clinical or month words, after a strong cue (safe_harbor@0.7.0)
        (LabelledNameRecognizer, "Pt seen by Dr. Stone and Dr. Wood; Dr. Lake paged", ["Stone", "Wood", "Lake"]),
        (LabelledNameRecognizer, "HCP is her sister June; spoke w/ wife April", ["June", "April"]),
        (LabelledNameRecognizer, "Pt's brother-in-law Gene called; Chaplain Rev. Price visited", ["Gene", "Price"]),
        (LabelledNameRecognizer, "ATTENDING: June Lake, MD\nCare team: A. Lake RT", ["June Lake", "A. Lake"]),
        (LabelledNameRecognizer, "S: June Waters, 96yo, bed 12", ["June Waters"]),
        (LabelledNameRecognizer, "call Summer (son) at 470.282.2872", ["Summer"]),
        (
            LabelledNameRecognizer,
            "Handed off to oncoming RN Will. Resident May notified; SW Ivy following",
            ["Will", "May", "Ivy"],
        ),
        (LabelledNameRecognizer, "sons Dale and Wade; Daughters (Faith) at bedside", ["Dale", "Faith"]),
        (ContextNameRecognizer, "patient's husband ray visited; called Bill", ["ray", "Bill"]),
        (
            LabelledNameRecognizer,
            "Walker began writing; Rose called to check on pt; Ciset lives on",
            ["Walker", "Rose", "Ciset"],
        ),
        # ICU shorthand: lower-case names after roles, relatives and before credentials; initials; signatures
        (
            LabelledNameRecognizer,
            "report from osh rn rebecca 978.672.1847; case manager patrick following",
            ["rebecca", "patrick"],
        ),
        (
            LabelledNameRecognizer,
            "father lewis at bedside; wife olive here; chaplain ford in to see pt",
            ["lewis", "olive", "ford"],
        ),
        (LabelledNameRecognizer, "regina np made aware; called green MD re: restraints", ["regina", "green"]),
        (
            LabelledNameRecognizer,
            "Report from OSH RN T. Wu; SW D. Carlson; Dr J. Brooks",
            ["T. Wu", "D. Carlson", "J. Brooks"],
        ),
        (
            LabelledNameRecognizer,
            "per dr. c. rivera; dr miller aware; Atty. King; Rev Le visited",
            ["c. rivera", "miller", "King", "Le"],
        ),
        (LabelledNameRecognizer, "--jill tucker rn\n- Heidi page at #99529", ["jill tucker", "Heidi"]),
        (LabelledNameRecognizer, "sister's name is karen, she may call", ["karen"]),
        (
            LabelledNameRecognizer,
            "notified. --erica w. rn\nl. young, rn / brandy k. sn (student)",
            ["erica w.", "l. young", "brandy k."],
        ),
        (
            LabelledNameRecognizer,
            "at 1930. -Jennifer (RN)\nnotified. --RN Stephanie\ndr ngo notified --sp rn",
            ["Jennifer", "Stephanie", "ngo", "sp"],
        ),
        (
            LabelledNameRecognizer,
            "White, Betty is a 73 yo woman; June (resident) paged; neighbor E. Bishop called",
            ["White, Betty", "June", "E. Bishop"],
        ),
        (LabelledNameRecognizer, "PT: ms thompson  MRN 9220383; Mr riley admitted", ["thompson", "riley"]),
        (LabelledNameRecognizer, "--cc rn\nsigned bh rn p# 83905; my rn aware", ["cc", "bh"]),
        (LabelledNameRecognizer, "tc from lily kelly (niece/hcp); SW joshua, daughter", ["lily kelly", "joshua"]),
        (
            LabelledNameRecognizer,
            "NP marisol martinez-rose, Johnny; per black-cross md ok",
            ["marisol martinez-rose", "black-cross"],
        ),
        # Credentials in any case, with dots ("M.D." then a space ends no word).
        (
            LabelledNameRecognizer,
            "Case d/w R. Wood, M.D. who will see; pcp c. hernandez, m.d. at; t. wang, lcsw x2; -p. love rrt",
            ["R. Wood", "c. hernandez", "t. wang", "p. love"],
        ),
        (LabelledNameRecognizer, "partner M. by phone; grandson k. (works at); brother S. and", ["M.", "k.", "S."]),
        (
            LabelledNameRecognizer,
            "consent signed by bill. HCP updated by duc at bedside; confirmed by Summer.",
            ["bill", "duc", "Summer"],
        ),
        (LabelledNameRecognizer, "/douglas 1-30 1500\nsigned: /tammy\n", ["douglas", "tammy"]),
        (
            LabelledNameRecognizer,
            "Julia / js for Dr. Small\nChase / mw for dr white",
            ["Julia", "js", "Small", "Chase", "mw", "white"],
        ),
        (LabelledNameRecognizer, "Dictated by: Minh\nDW JOB#: 3778014\nK.D. JOB#: 9640", ["Minh", "DW", "K.D."]),
        (
            LabelledNameRecognizer,
            "visit from Imam Crystal; neice John's cell; Dictating: Summer",
            ["Crystal", "John's", "Summer"],
        ),
        (LabelledNameRecognizer, "Dictated by: Joao\ncl JOB#: IR-566268\nas JOB#: 79", ["Joao", "cl", "as"]),
        (
            LabelledNameRecognizer,
            "transfer note: young, lewis is a 67 yo man; pt: paul  mrn 1318055",
            ["young, lewis", "paul"],
        ),
        (
            LabelledNameRecognizer,
            "at 0700. -rosa howard, rn\nat 1900. -am rn\nreport to lm rn at 0700.",
            ["rosa howard", "am", "lm"],
        ),
        (LabelledNameRecognizer, "PICC placed by Dr Ashley Dean June 12th @ 1145", ["Ashley Dean"]),
        # initials: a consultant's in brackets, the author's ending the note, before "to see", after "by"
        (
            LabelledNameRecognizer,
            "Seen by ortho (S.P.) on Apr 15; seen by renal (HLR); rm 14, A. M. to see; seen by GR\nleft VM.\nfsb\n",
            ["S.P.", "HLR", "A. M.", "GR", "fsb"],
        ),
        (
            LabelledNameRecognizer,
            "Brown, Whitney / 98F\nTorres, Georgia (56F), comfort; Anesthesiologist: Swift; (liaison Sully 207)",
            ["Brown, Whitney", "Torres, Georgia", "Swift", "Sully"],
        ),
        (
            LabelledNameRecognizer,
            "- M. Garza, DPT  pager 69802\n- L. Porter, OTR/L\n- a. siering PharmD\nTaken by: mariana (front desk)",
            ["M. Garza", "L. Porter", "a. siering", "mariana"],
        ),
        (LabelledNameRecognizer, "patient: pope, jennifer  mrn: 858-11-72", ["pope, jennifer"]),
        (LabelledNameRecognizer, "HCP form on chart naming bill; contact scott at maplewood", ["bill", "scott"]),
        (
            LabelledNameRecognizer,
            "Called to bedside by PCA robert at 0315; intake coordinator June Cooper ph",
            ["robert", "June Cooper"],
        ),
        (LabelledNameRecognizer, "I saw and examined the pt with Ivy Bishop and agree", ["Ivy Bishop"]),
        (
            LabelledNameRecognizer,
            "RN event note\npt Mark c/o pain\nPt Sterling Waller found",
            ["Mark", "Sterling Waller"],
        ),
        (
            LabelledNameRecognizer,
            "turner, maria r.n.\nTimothy Dunlap / C.C. for DR. COSTA",
            ["turner, maria", "Timothy Dunlap", "C.C.", "COSTA"],
        ),
    ],
)
def test_recognizer_finds_names(recognizer_cls, text, expected):
    assert found(recognizer_cls, text) == expected


@pytest.mark.parametrize(
    ("recognizer_cls", "text"),
    [
        (LabelledNameRecognizer, "Patient: denies chest pain"),
        (LabelledNameRecognizer, "Dr. visit scheduled"),
        (LabelledNameRecognizer, "Mother: Breast cancer. Father: CAD."),
        (LabelledNameRecognizer, "dx MS. Follow up in clinic"),
        (NameLexiconRecognizer, "History of Parkinson disease and Crohn's disease."),
        (NameLexiconRecognizer, "Wolff-Parkinson-White pattern; Lewy body dementia suspected."),
        (NameLexiconRecognizer, "Metformin 500 mg PO BID, Lasix 40 mg IV PRN."),
        (NameLexiconRecognizer, "Smith fracture of the left radius."),
        (NameLexiconRecognizer, "the patient will grant consent; Grant was not discussed"),
        (LabelledNameRecognizer, "Please call me when you're here."),
        (ContextNameRecognizer, "called Pharmacy, per Protocol, updated Family, paged Covering team"),
        (ContextNameRecognizer, "due to DIC, spoke with ICU"),
        (ContextNameRecognizer, "dr aware of BP"),
        (ContextNameRecognizer, "son will call back; wife states pt ok; spoke with team; wife aware"),
        (NameShapeRecognizer, "Neuro: A&Ox3. Resp: coarse. Lytes repleted. Vanco trough due. Levo 0.05."),
        (NameShapeRecognizer, "Foley draining. Tmax 38.1. Dobhoff in place; Apgar 9."),
        (NameShapeRecognizer, "Discipline and Tales; Although Histopathologic findings; Transesophageal echo"),
        (NameShapeRecognizer, "Zosyn 4.5 g IV q8h; Concerta 54 mg"),
        (NameShapeRecognizer, "Kleist was seen; kleist criteria"),
        (NameLexiconRecognizer, "pt on vanco and zosyn, lytes repleted, sats 95% ra, abd soft"),
        (ContextNameRecognizer, "patient's daughter and mother's sister called; Note: \"refused\" per pt"),
        (LabelledNameRecognizer, "Mother: Breast cancer. Father: Heart disease. Dr. Note reviewed."),
        (LabelledNameRecognizer, "16 Fr Foley placed; Fr catheter"),
        (ContextNameRecognizer, "per brady protocol; noted brady to 40s; spoke with pharmacy"),
        (
            LabelledNameRecognizer,
            "Pt states pain better. Wife called. Pharmacy called. Foley began draining. Pain began",
        ),
        (LabelledNameRecognizer, "son will call back; wife states ok; the child's birthweight; night rn aware"),
        (LabelledNameRecognizer, "daughters at bedside; dr aware; mild mr and tr; ms changes; md notified"),
        (LabelledNameRecognizer, "T2 MR sequences; MS lesions noted; mild mr noted; HR 80 -90 and - plan"),
        (
            LabelledNameRecognizer,
            "updated by phone; confirmed by CXR; confirmed by CSF cytology; checked by biomed; signed by pt",
        ),
        (LabelledNameRecognizer, "son, i.e. the HCP; and/or; 5 mcg/kg/min; Attending Physician: reviewed"),
        (
            LabelledNameRecognizer,
            "pt denies pain\npt pat found\nPt May be discharged\npt Found down; patient: tolerated well",
        ),
        (LabelledNameRecognizer, "contact pharmacy at x2345; tech aware; pt with pain; Patient: 67 yo"),
        (LabelledNameRecognizer, "confirmed by CT\nseen by MD, placed by IR\nplan as above.\nCV\nHR 80\npt on 2L\nNC"),
    ],
)
def test_recognizer_keeps_clinical_words(recognizer_cls, text):
    assert found(recognizer_cls, text) == []


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Seen by Dr. John Smith today.", ["John Smith"]),
        ("Patient: SMITH, JOHN    MRN: 00123456", ["SMITH, JOHN"]),
        ("Social: niece Sarah at bedside, updated on plan of care.", ["Sarah"]),
        (
            "Care team: Dr. Reyes, Rebecca Castaneda RT, Diana Little PA-C, John Jones RN",
            ["Reyes", "Rebecca Castaneda", "Diana Little", "John Jones"],
        ),
        ("Electronically signed by Michelle Holloway RN on 01/07/2018", ["Michelle Holloway"]),
        ("-- K. Okafor, NP", ["K. Okafor"]),
        ("Call from pt's brother, Betty Monroe, about discharge.", ["Betty Monroe"]),
        ("Pt is a 92 y/o F; daughter (Ann Ng) called.", ["Ann Ng"]),
        ("Spoke w/ son Teodor via phone; Dr. Okonkwo aware.", ["Teodor", "Okonkwo"]),
        ("Szabina J Gelencsér and Maika van de Noort visited", ["Szabina J Gelencsér", "Maika van de Noort"]),
        ("PT'S WIFE MARY IN TO VISIT. SPOKE WITH DR. KOWALSKI RE: PLAN.", ["MARY", "KOWALSKI"]),
        ("Joost van Dam visited with his wife.", ["Joost van Dam"]),
        (
            "Family (wife Iris, sons Dale and Wade) updated; daughters Ivy, Will and Chase at bedside.",
            ["Iris", "Dale", "Wade", "Ivy", "Will", "Chase"],
        ),
        ("Muslija and Brown were precision engineers.", ["Muslija", "Brown"]),
        ("their kids: silvana, adam, christopher, kristina, chad and caleb.", ["silvana", "kristina", "chad", "caleb"]),
    ],
)
def test_engine_redacts_names(deid, text, names):
    assert leaked(text, deid.detect(text), names) == []


def test_all_caps_names_stop_before_function_words(deid):
    text = "PT'S WIFE MARY IN TO VISIT. SPOKE WITH DR. KOWALSKI RE: PLAN."
    assert typed(text, deid.detect(text)) == [("MARY", "PERSON"), ("KOWALSKI", "PERSON")]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Patient: Lee, Lisa    MRN: 1234567\n\nLisa was seen today. Lisa denies pain.", "Lisa"),
        ("Attending: Dr. Joseph\n\nThe plan was discussed with Joseph today.", "Joseph"),
    ],
)
def test_a_name_found_once_is_redacted_everywhere_in_the_note(deid, text, name):
    assert name not in deid.redact(text)


@pytest.mark.parametrize(
    "text",
    [
        "History of Parkinson disease.",
        "Parkinson's disease with tremor.",
        "Crohn's disease, on infliximab.",
        "Wolff-Parkinson-White syndrome on ECG.",
        "Lewy body dementia, on donepezil.",
        "Hashimoto thyroiditis and Cushing syndrome.",
        "Metformin 500 mg PO BID; DOB label kept.",
        "Gram, Ziehl-Neelsen staining negative; Epstein-Barr virus serology negative.",
    ],
)
def test_engine_keeps_eponyms_and_drugs(deid, text):
    assert [t for t in typed(text, deid.detect(text)) if t[1] == "PERSON"] == []


def test_name_propagation_leaves_clinical_words(deid):
    text = "Patient: Parkinson, James\nHistory of Parkinson disease on carbidopa-levodopa."
    redacted = deid.redact(text)
    assert "James" not in redacted and "Patient: Parkinson" not in redacted
    assert "History of Parkinson disease on carbidopa-levodopa" in redacted


@pytest.mark.parametrize(
    ("text", "clinical"),
    [
        ("Metformin", True),
        ("Crohn's", True),
        ("BID", True),
        ("DOB", True),
        ("pembrolizumab", True),
        ("Maria Gonzalez", False),
        ("Springfield", False),
    ],
)
def test_is_clinical_term(text, clinical):
    assert is_clinical_term(text) is clinical


@pytest.mark.parametrize(
    ("text", "clinical"),
    [("Breast", True), ("Chest Pain", True), ("Negative", True), ("John", False), ("Breast Smith", False)],
)
def test_is_clinical_phrase(text, clinical):
    assert is_clinical_phrase(text) is clinical


def test_ner_names_lose_the_abbreviations_spacy_runs_into_them(deid):
    # spaCy reads "HCP Mei" and "RT NOTE" as names; the abbreviation is no part of a name.
    text = "HCP form on chart; alt HCP Mei. RT NOTE Dec. 8: JOHN SMITH seen, WOCN M. Romero saw pt"
    spans = deid.detect(text)
    assert leaked(text, spans, ["Mei", "JOHN SMITH", "M. Romero"]) == []
    for kept in ("HCP form", "RT NOTE", "WOCN"):
        start = text.index(kept)
        assert not [s for s in spans if s.start < start + len(kept) and start < s.end], kept


def test_lexicons_hold_names_not_clinical_words():
    names, vocabulary = person_names(), clinical_vocabulary()
    assert len(names) > 20_000 and len(vocabulary) > 10_000
    assert {"john", "mary", "smith", "kevin", "olga"} <= names
    assert not {"parkinson", "metformin", "breast", "pain", "will", "may", "lasix"} & names
    assert {"metformin", "lasix", "breast", "fracture"} <= vocabulary


def test_the_shipped_clinical_vocabulary_matches_the_pinned_packages():
    from clinical.deid.lexicons import CLINICAL_VOCABULARY_FILE, build_clinical_vocabulary

    shipped = set(CLINICAL_VOCABULARY_FILE.read_text(encoding="utf-8").split())
    assert shipped == set(build_clinical_vocabulary()), "regenerate: python -m clinical.deid.lexicons"


ICU_NOTE_WITHOUT_PHI = """Neuro: A&Ox3, MAE, follows commands. Ativan 1mg IV x1 for anxiety.
CV: NSR with PVCs. Heparin gtt at 1000 units/hr, PTT 68. K 3.6, Mg 1.8 repleted. Lopressor 25mg PO.
Resp: 2L NC, sats 95-98%. GU: Foley draining clear yellow urine. Lasix 40mg IV, -800cc.
ID: Tmax 37.9. On Vanco and Zosyn, trough pending. Skin: turning q2h, Braden 16. Hem: Hct 29.1.
Pain: Percocet 1 tab at 1400 for incisional pain 6/10 with relief to 2/10. Steri-Strips OTA.
Ortho and Cards following. Neurosurg signed off. CVVH via Quinton in R fem. Swan-Ganz via Cordis.
Trach care done, Passy-Muir valve trial tolerated. Yankauer at bedside. Flexiseal in place. Bair Hugger on.
Posey vest applied. Mepilex to coccyx, Xeroform to graft site, Aquacel to sternum. Hickman line flushed.
Cisatracurium off since 0600, TOF 4/4. OOB to chair with PT, Hoyer lift used. Kardex updated.
Dobhoff in place, TF Nepro at goal. Levo 0.05, Neo off. Lytes in am, Coags pending. Remains in MICU."""


def test_engine_keeps_icu_nursing_shorthand(deid):
    # Devices, products, services and scores that ICU nursing notes capitalise are no names (invented note).
    assert typed(ICU_NOTE_WITHOUT_PHI, deid.detect(ICU_NOTE_WITHOUT_PHI)) == []
