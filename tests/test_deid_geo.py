"""Geographic subdivisions smaller than a state (Safe-Harbor identifier B): street addresses with
units, address blocks over several lines, PO and military boxes, cities, facilities, ZIP codes
(first three digits kept, 000 for the restricted prefixes); states and countries stay."""

from __future__ import annotations

import pytest
from deid_helpers import found, leaked, typed

from clinical.deid.engine import RESTRICTED_ZIP3, PhiSpan, extend_addresses
from clinical.deid.recognizers import (
    ContextPlaceRecognizer,
    FacilityLocationRecognizer,
    LabelledAddressRecognizer,
    PlacePostcodeRecognizer,
    StreetAddressRecognizer,
    StreetNameNumberRecognizer,
    ZipCodeRecognizer,
)


@pytest.mark.parametrize(
    ("recognizer_cls", "text", "expected"),
    [
        (StreetAddressRecognizer, "lives at 12 Main St with", ["12 Main St"]),
        (StreetAddressRecognizer, "1600 Pennsylvania Avenue", ["1600 Pennsylvania Avenue"]),
        (StreetAddressRecognizer, "42 West Elm Road, Apt 4B", ["42 West Elm Road, Apt 4B"]),
        (StreetAddressRecognizer, "at 350 Sunset Blvd.", ["350 Sunset Blvd."]),
        (StreetAddressRecognizer, "at 64445 Jennifer Village, Lake", ["64445 Jennifer Village"]),
        (StreetAddressRecognizer, "fell at 736 Judy Overpass today", ["736 Judy Overpass"]),
        (StreetAddressRecognizer, "P.O. Box 1234", ["P.O. Box 1234"]),
        (StreetAddressRecognizer, "Loorenstrasse 149", ["Loorenstrasse 149"]),
        (StreetAddressRecognizer, "6750 Koskikatu 25 Apt. 864", ["6750 Koskikatu 25 Apt. 864"]),
        (StreetAddressRecognizer, "PSC 6293, Box 8158\nAPO AP 04336", ["PSC 6293, Box 8158\nAPO AP 04336"]),
        (StreetAddressRecognizer, "USS Mahler\nFPO AA 70489", ["USS Mahler\nFPO AA 70489"]),
        (StreetAddressRecognizer, "at the corner of Main and Elm Street", ["the corner of Main and Elm Street"]),
        (StreetAddressRecognizer, "He lives on Villacher Strasse 89 now", ["Villacher Strasse 89"]),
        (
            LabelledAddressRecognizer,
            "Address: 6984 Price Shoals, Erictown, KS 66123\nPhone",
            ["6984 Price Shoals, Erictown, KS 66123"],
        ),
        (LabelledAddressRecognizer, "Home address:  12 Rue de la Paix, Paris", ["12 Rue de la Paix, Paris"]),
        (FacilityLocationRecognizer, "transferred from Mercy General Hospital today", ["Mercy General Hospital"]),
        (FacilityLocationRecognizer, "Discharged to Oak Grove Nursing Home.", ["Oak Grove Nursing Home"]),
        (FacilityLocationRecognizer, "seen at St. Mary's Medical Center", ["St. Mary's Medical Center"]),
        (FacilityLocationRecognizer, "moved to Springfield, IL last year", ["Springfield"]),
        (FacilityLocationRecognizer, "born in Austin, Texas", ["Austin"]),
        (ZipCodeRecognizer, "Boston, MA 02115", ["02115"]),
        (ZipCodeRecognizer, "Austin, Texas 78701-1234", ["78701-1234"]),
        (ZipCodeRecognizer, "ZIP: 60614", ["60614"]),
        (ZipCodeRecognizer, "zip code 94110", ["94110"]),
        (ZipCodeRecognizer, "West Megan, VI 00803", ["00803"]),
        (StreetAddressRecognizer, "808 Kálmán Imre u. 12.", ["808 Kálmán Imre u. 12."]),
        (StreetAddressRecognizer, "It's in 0269 Stensås terrasse 38", ["0269 Stensås terrasse 38"]),
        (StreetAddressRecognizer, "sent to 3911 fourth avenue suite 112", ["3911 fourth avenue suite 112"]),
        (StreetAddressRecognizer, "uscgc aslakhanov\nfpo ae 44941?", ["uscgc aslakhanov\nfpo ae 44941"]),
        (PlacePostcodeRecognizer, "office in ARENDAL 4844 in", ["ARENDAL", "4844"]),
        (ContextPlaceRecognizer, "Pt transferred from Beth Israel Deaconess on 3/4.", ["Beth Israel Deaconess"]),
        (ContextPlaceRecognizer, "Sent to Spaulding Rehab tomorrow", ["Spaulding Rehab"]),
        (FacilityLocationRecognizer, "Pt lives in Revere with wife; from Mass General ED", ["Revere", "Mass General"]),
        (StreetAddressRecognizer, ">770 26 rue des lieutemants Thomazo\n", ["770 26 rue des lieutemants Thomazo"]),
        (PlacePostcodeRecognizer, "support us in Costamezzana 43015 now", ["Costamezzana", "43015"]),
        (PlacePostcodeRecognizer, "Quinta de São Tiago 3610-114", ["Quinta de São Tiago", "3610-114"]),
        (StreetNameNumberRecognizer, "moved to Ostrowskiego 12 last spring", ["Ostrowskiego 12"]),
        (StreetNameNumberRecognizer, "lives on Halldora Przybyszewska 7b", ["Halldora Przybyszewska 7b"]),
        (StreetAddressRecognizer, "lives on Linden Strasse 9", ["Linden Strasse 9"]),
        (StreetAddressRecognizer, "enter on vörösmarty út 41. after", ["vörösmarty út 41."]),
        (StreetAddressRecognizer, "at 5120 Jana z Lipska 88", ["5120 Jana z Lipska 88"]),
        # lower-case streets, read through the capitalised view (they end a line or clause, or a unit follows)
        (StreetAddressRecognizer, "ship it to 9791 regina mountains\nandreaborough", ["9791 regina mountains"]),
        (StreetAddressRecognizer, "user: 0605 πεντέλης 210 apt. 999\ndelmas", ["0605 πεντέλης 210 apt. 999"]),
        (StreetNameNumberRecognizer, "lives at brixiho 5\n525 89", ["brixiho 5"]),
        # two numbers then a street name; a lower-case town and postcode after "in"; more suffixes; "7-7"
        (StreetNameNumberRecognizer, "The restaurant is at 9816 214 Pavlou Drandaki", ["9816 214 Pavlou Drandaki"]),
        (
            PlacePostcodeRecognizer,
            "support foursquare in barra de carrasco 15000 in its",
            ["barra de carrasco", "15000"],
        ),
        (StreetAddressRecognizer, "ship to 97 Catherine Pathway\nAndreaborough", ["97 Catherine Pathway"]),
        (StreetAddressRecognizer, "at Marie-Theres-Heuser-Straße 7-7\n25102", ["Marie-Theres-Heuser-Straße 7-7"]),
        # street words of more languages and abbreviations ("C/", Portuguese "r"), an accented first letter
        (StreetAddressRecognizer, "vive en C/ Mayor 5, Madrid", ["C/ Mayor 5"]),
        (
            StreetAddressRecognizer,
            "ship to Cuesta de Eufemia Bastida 507\nCantabria",
            ["Cuesta de Eufemia Bastida 507"],
        ),
        (StreetAddressRecognizer, "user 5670 r josé a madeira 1 suite 696\n", ["5670 r josé a madeira 1"]),
        (StreetAddressRecognizer, "at 9791 élise green\neast", ["9791 élise green"]),
        (StreetAddressRecognizer, "oliemølle allé 69\n1935 haslev", ["oliemølle allé 69"]),
        (StreetAddressRecognizer, "ship to Gang Medokan Ayu No. 1\nParepare", ["Gang Medokan Ayu No. 1"]),
        (StreetAddressRecognizer, "ship to 686, chemin de Derbal, Aïn El Hadjar", ["686, chemin de Derbal"]),
        (
            StreetAddressRecognizer,
            "the corner of Via del Monte Nuovo 3 and Elm",
            ["the corner of Via del Monte Nuovo 3 and Elm"],
        ),
    ],
)
def test_recognizer_finds_places(recognizer_cls, text, expected):
    assert found(recognizer_cls, text) == expected


@pytest.mark.parametrize(
    ("recognizer_cls", "text"),
    [
        (StreetAddressRecognizer, "took 2 tablets by mouth"),
        (StreetAddressRecognizer, "Metformin 500 mg PO BID"),
        (StreetAddressRecognizer, "T 37.7 HR 99 BP 120/80"),
        (StreetAddressRecognizer, "Glucose 120 Potassium 4 today"),
        (StreetAddressRecognizer, "delivered at 37 weeks by cesarean section"),
        (StreetAddressRecognizer, "lesion located in the 4th layer"),
        (StreetAddressRecognizer, "lasix 40 x 2 given; kcl 20 x 2; sent 5/10 to rehab"),
        (LabelledAddressRecognizer, "No fixed address."),
        (FacilityLocationRecognizer, "referred to the Heart Failure Clinic"),
        (FacilityLocationRecognizer, "Ventricular Septum, LA dilated"),
        (ZipCodeRecognizer, "platelets 15000 today"),
        (PlacePostcodeRecognizer, "moved to Room 4844; Vanco 1000 q12h; Levophed 2000 units"),
        (PlacePostcodeRecognizer, "Zosyn 4500 mg IV; TSICU 1200 handoff"),
        (FacilityLocationRecognizer, "moved from Ohio to Canada; lives in Nursing Home; General Surgery"),
        (ContextPlaceRecognizer, "transferred to MICU, then to Floor; admitted to Medicine; came from Ohio"),
        (StreetAddressRecognizer, "gave 2 units of prbc this am"),
        (StreetNameNumberRecognizer, "Vanco 1000 q12h; Room 12; Levophed 0.05; Kowalski 78 yo; Ativan 2 mg"),
        (StreetAddressRecognizer, "walked 2 laps in the hall; gave 2 units of prbc. lasix 40 iv 2 doses 1\n"),
        (StreetAddressRecognizer, "bp 120 systolic 90, hr 88 sinus 2 rhythm strips.\n"),
        (StreetNameNumberRecognizer, "vanco 1000\nheparin 5000\nlevophed 0.05\n"),
        (StreetNameNumberRecognizer, "BP 120 80 Sitting. HR 88 92 Afib. Weight 80 2 Kg."),
        (StreetAddressRecognizer, "strength 5 r arm 4/5, 4 r leg 3 of 5; viagra 50 mg; viable 5 cells"),
        (
            PlacePostcodeRecognizer,
            "pt in pacu 1430 then to floor. gave 2 units in micu 2300. in room 4844. from home 1200",
        ),
        (StreetAddressRecognizer, "transferred via ALS 10/14 at 04:45; via Med flight 8/17; via EMS 12 min"),
        (StreetAddressRecognizer, "via Med flight Feb 4 @ 0720; via Med flight 9/16/10 @ 1045; via phone 3 times"),
    ],
)
def test_recognizer_keeps_clinical_text(recognizer_cls, text):
    assert found(recognizer_cls, text) == []


@pytest.mark.parametrize(
    ("text", "phi"),
    [
        ("6750 Koskikatu 25 Apt. 864\nArtilleros\n, CO\n Uruguay 64677", ["6750 Koskikatu 25 Apt. 864\nArtilleros"]),
        ("Lives at 12 Main St, Boston, MA 02115.", ["12 Main St, Boston", "02115"]),
        ("4880 Betburweg 74 Suite 967 Apt. 267, Lascano, Uruguay 80694", ["4880 Betburweg 74 Suite 967", "Lascano"]),
        (
            "Discharged to Wagner Rehabilitation Center, 308 Dennis Garden Suite 558, East Melissaberg, PW 96940.",
            ["Wagner Rehabilitation Center", "308 Dennis Garden Suite 558", "East Melissaberg", "96940"],
        ),
        ("Name: X\n1737 Cheriton Dr\n Apt. 724\n Hibberdene\n South Africa 68793", ["1737 Cheriton Dr", "Hibberdene"]),
        ("The letter arrived at 760 Passauer Strasse 33, Cite Guedouala, Tunisia last night.", ["Cite Guedouala"]),
        ("at 9554 62 Rue Gafsa Apt. 981\nToronto", ["9554 62 Rue Gafsa Apt. 981", "Toronto"]),
        ("It is at 9721 Dalmatinova 43 Apt. 678 Velenje nan", ["9721 Dalmatinova 43 Apt. 678 Velenje"]),
        ("to 50541 Mlýnská 1540\nTrancoso\n, GU\n Portugal 44674 for", ["50541 Mlýnská 1540\nTrancoso\n, GU", "44674"]),
        ("same: 2613 avenida praia 1 suite 463, mohács, hungary 24743", ["2613 avenida praia 1 suite 463, mohács"]),
        # a postcode on its own line with prose after it; a region number after a comma; Polish, Canadian codes
        ("with 7120 Kirkjuvegur 12\nHOFSOS\n, nan\n 56203 for the card", ["7120 Kirkjuvegur 12\nHOFSOS", "56203"]),
        ("at 88 Lindenweg 4\nCite Zaouiet\n, 21\n 40721. Open", ["88 Lindenweg 4\nCite Zaouiet\n, 21", "40721"]),
        ("ul. Lipowa 10 Apt. 3\n   Olsztyn\n    nan\n    10-447", ["ul. Lipowa 10 Apt. 3\n   Olsztyn", "10-447"]),
        (
            "41 Harbour St Suite 2\n   Port Medway\n    NS\n    B0J 2T0",
            ["41 Harbour St Suite 2\n   Port Medway", "B0J 2T0"],
        ),
        # particles in town names, "∆" for Delta, a street with a clinical word and a unit
        ("at 12 Main St, Lhota u Kolina, Czech Republic 28002", ["12 Main St, Lhota u Kolina", "28002"]),
        ("12 Λ. Κηφισίας 4\n Suite 5\n ΑΓΙΑ ΠΑΡΑΣΚΕΥ∆Η\n Cyprus 51034", ["12 Λ. Κηφισίας 4", "ΑΓΙΑ ΠΑΡΑΣΚΕΥ∆Η"]),
        ("Meet at 5100 Quadra 104\n Suite 845\n Evionnaz", ["5100 Quadra 104\n Suite 845\n Evionnaz"]),
        # lower-case text: the block read with capitalised words, never over function words
        (
            "located at 389 167 king edward\nport alfred\n, ec\n 61700. it",
            ["389 167 king edward\nport alfred\n, ec", "61700"],
        ),
        (
            "to 3747 3911 fourth avenue suite 112 red deer alberta",
            ["3747 3911 fourth avenue suite 112 red deer alberta"],
        ),
        ("address: 106 rúa olmos 44, belfast, south africa", ["106 rúa olmos 44, belfast"]),
        # a street intersection written "X and <street>"
        ("It is at Maple and Ostrowskiego 12 now", ["Maple and Ostrowskiego 12"]),
        # lower-case blocks: a state code that is a function word, a direction in a town, letter-digit postcodes
        (
            "please ship it to 9791 regina mountains\nandreaborough, vt 62139. thanks",
            ["9791 regina mountains\nandreaborough, vt 62139"],
        ),
        ("3464 konrad lights\njaneshire, in 44641 is where we met", ["3464 konrad lights\njaneshire, in 44641"]),
        ("9791 jane green\neast jane, nd 72542.", ["9791 jane green\neast jane, nd 72542"]),
        (
            "666 maynard dale suite 102\nrobinsonchester, yt s6x9r7\nphone",
            ["666 maynard dale suite 102\nrobinsonchester, yt s6x9r7"],
        ),
        # a postcode and its town before prose or the end of a sentence; Czech "290 40"; a province and "Y7Y3V4"
        ("The patient lives at Paťanka 20\n290 40 Mohelnice with her son", ["Paťanka 20\n290 40 Mohelnice"]),
        ("lives at sara-kallert-allee 4\n58991 siegen with her son", ["sara-kallert-allee 4\n58991 siegen"]),
        (
            "Ship to 2137 Topaz Road, Jacobs Village, Ilog, 4106 Ifugao. Thanks",
            ["2137 Topaz Road, Jacobs Village, Ilog, 4106 Ifugao"],
        ),
        ("Ship to Sigurdsvej 2\n4748 Tørring. Thanks", ["Sigurdsvej 2\n4748 Tørring"]),
        (
            "9791 Regina Mountains\nAndreaborough, SK Y7Y3V4. Thanks",
            ["9791 Regina Mountains\nAndreaborough, SK Y7Y3V4"],
        ),
        # Dutch, Hungarian and Italian postcodes and their towns before a sentence end; a Portuguese "r" street
        ("please ship it to sarastraat 9\n5907jo\nhasselt. thanks", ["sarastraat 9\n5907jo\nhasselt"]),
        ("Ship to Városi utca 149.\nH-2907 Tamásifalva. Thanks", ["Városi utca 149.\nH-2907 Tamásifalva"]),
        ("Ship to Vicolo Sgalambro, 59\n30010, Campagna Lupia (VE). Thanks", ["59\n30010, Campagna Lupia (VE)"]),
        (
            "Ship to Cuesta de Eufemia Bastida 507\nCantabria, 47999. Thanks",
            ["Cuesta de Eufemia Bastida 507\nCantabria, 47999"],
        ),
        (
            "director\nrosales-mcguire\n5670 r josé a madeira 1 suite 696\nφλαμου∆ι\n, fa\n cyprus (greek) 26933",
            ["5670 r josé a madeira 1 suite 696\nφλαμου∆ι\n, fa\n cyprus (greek) 26933"],
        ),
        ("Please ship it to 825, boulevard de François\n77113 Poirier", ["825, boulevard de François"]),
        # a street with no suffix; a floor as the unit
        ("Clinic, 19 Broadway, Quincy, MA 02017. Phone", ["19 Broadway, Quincy"]),
        # a lower-case street with a unit whose letter is a function word ("36a")
        (
            "brother earl wu\n597 summer st, apt 36a, peabody, mass 01753\nhome",
            ["597 summer st, apt 36a, peabody, mass 01753"],
        ),
        ("her niece, 599 Washington St 2nd floor, Hyde Park, MA 01612, 1-800", ["599 Washington St 2nd floor"]),
        # words or a unit before the house number
        (
            "Please update the billing address with Serenade Opus 420 Gairbekov Rapids\n Apt. 576\n Voormezele\n"
            " Belgium 92060 for this card",
            ["Serenade Opus 420 Gairbekov Rapids\n Apt. 576\n Voormezele"],
        ),
        ("Flat 15\n39 Wekaiti Anchorage\nKawatoa 5294 is where", ["Flat 15\n39 Wekaiti Anchorage\nKawatoa 5294"]),
        (
            "Ship to Block 18 Lot 75 Palanan Drive, Pluto Cove, Jose Panganiban, 4331 Camarines Norte. Thanks",
            ["Block 18 Lot 75 Palanan Drive, Pluto Cove, Jose Panganiban, 4331 Camarines Norte"],
        ),
    ],
)
def test_engine_redacts_address_blocks(deid, text, phi):
    assert leaked(text, deid.detect(text), phi) == []


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("12 main st\nfollow up in 2 weeks", "follow up in 2 weeks"),
        ("lives at 12 main st with wife, in 2 weeks", "with wife, in 2 weeks"),
        ("Ship to Sigurdsvej 2\n4748 Tørring. Thanks, the team", "Thanks, the team"),
        ("Ship to Patriciaring 919\n4748\nGijzenzele. Thanks, the team", "Thanks, the team"),
        ("Pt walked with Nursing 2 laps. Seen by Dr Lee at 12 Main St", "Pt walked with Nursing 2 laps"),
        ("3464 konrad lights\njaneshire, in 44641 is where we met", "is where we met"),
        ("walked 2 laps in the hall; gave 2 units of prbc. lasix 40 iv 2 doses 1\n", "walked 2 laps in the hall"),
    ],
)
def test_engine_keeps_prose_around_address_blocks(deid, text, kept):
    start = text.index(kept)
    assert not [s for s in deid.detect(text) if s.start < start + len(kept) and start < s.end]


def test_address_block_growth_stops_at_another_identifier():
    text = "12 Main St\nSpringfield, IL 62704\nPhone 217 555 0100"
    spans = [PhiSpan(0, 10, "STREET_ADDRESS", 0.85), PhiSpan(27, 32, "ZIP_CODE", 0.9)]
    grown = extend_addresses(text, spans)
    assert typed(text, grown) == [("12 Main St\nSpringfield, IL", "STREET_ADDRESS"), ("62704", "ZIP_CODE")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Boston, MA 02115", "[LOCATION], MA [ZIP 021]"),
        ("ZIP: 60614", "ZIP: [ZIP 606]"),
        ("Austin, Texas 78701-1234", "[LOCATION], Texas [ZIP 787]"),
        ("ZIP: 03601", "ZIP: [ZIP 000]"),
        ("ZIP: 05901", "ZIP: [ZIP 000]"),
        ("ZIP: 69201", "ZIP: [ZIP 000]"),
        ("ZIP: 89301", "ZIP: [ZIP 000]"),
        ("ZIP: 82101", "ZIP: [ZIP 000]"),
        ("ZIP: 89001", "ZIP: [ZIP 000]"),
        ("Moved from Ohio to Canada in 2019.", "Moved from Ohio to Canada in 2019."),
    ],
)
def test_safe_harbor_zip_and_state_rules(deid, text, expected):
    assert deid.redact(text) == expected


def test_restricted_zip_prefixes_are_the_census_seventeen():
    assert len(RESTRICTED_ZIP3) == 17
    assert {"036", "059", "063", "102", "203", "556", "692", "790", "821"} <= RESTRICTED_ZIP3
    assert {"823", "830", "831", "878", "879", "884", "890", "893"} <= RESTRICTED_ZIP3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("D/C planned for 3-24 to Cross Nursing Home.", ["Cross Nursing Home"]),
        ("admitted 7-6 from Fox House; D/C to Hebrew Rehab", ["Fox House", "Hebrew Rehab"]),
        ("likely to Adams-Marshfield when stable; came in from Baker-Newton", ["Adams-Marshfield", "Baker-Newton"]),
    ],
)
def test_facility_names_without_a_hospital_word(text, expected):
    """safe_harbor@0.7.0: a surname or proper word before Rehab/House/Manor/Nursing Home, and hyphenated
    names after a place cue, are facilities."""
    assert found(FacilityLocationRecognizer, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Cardiac Rehab referral; Pulmonary Rehab; Heart Failure Clinic",
        "consistent with Guillain-Barre; progressed to Wolff-Parkinson-White pattern",
    ],
)
def test_clinical_facility_words_stay(text):
    assert found(FacilityLocationRecognizer, text) == []
