"""Fully relabelled exports of the synthetic cohort, as a centre's e-CRF might write them.

``relabel(cohort, style, seed)`` draws one export: every header foreign (Italian or English e-CRF
labels, with the perturbations such labels carry: upper case, underscores, numbered items, section
prefixes, accents dropped), columns shuffled, extra columns that belong to no dictionary variable,
every code relabelled, dates reformatted (a format per export, Excel serial numbers for some
columns), decimal commas and a missing-value token in some Italian exports, and the optional
``vgpr_first_date`` left out of some. It returns the export and the truth: which export column holds
which variable, which label means which code, which date format each column follows.

The header vocabulary here was written as a CRF designer would write it, separately from
``data/mapping_aliases.toml``; many of its labels are deliberately not in that file, so that the
measured accuracy is that of the matching, not of a look-up (the tests report both shares).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

STYLES = ("italian", "english")

HEADERS = {
    "italian": {
        "patient_id": ["ID paziente", "Codice paziente", "Cod. paz."],
        "center": ["Centro", "Centro arruolante", "Sede"],
        "birth_date": ["Data di nascita", "Data nascita", "Nato il"],
        "sex": ["Sesso", "Sesso (M/F)", "Genere"],
        "isotype": ["Isotipo", "Isotipo CM", "Tipo componente monoclonale"],
        "diagnosis_date": ["Data diagnosi MM", "Data di diagnosi", "Diagnosi (data)"],
        "iss_dx": ["ISS", "Stadio ISS alla diagnosi", "ISS diagnosi"],
        "riss_dx": ["R-ISS", "Stadio R-ISS", "R-ISS alla diagnosi"],
        "cyto_risk_dx": ["Citogenetica alto rischio", "Rischio citogenetico alla diagnosi", "FISH diagnosi (rischio)"],
        "chr1_dx": ["Cromosoma 1 alla diagnosi", "Alterazioni cr. 1 (diagnosi)", "1q/1p diagnosi"],
        "first_line_class": ["Terapia di prima linea", "Schema I linea", "Prima linea (backbone)"],
        "first_line_start_date": ["Data inizio prima linea", "Inizio I linea", "Data inizio terapia di prima linea"],
        "asct_first_line": ["Autotrapianto in prima linea", "ASCT I linea", "Trapianto autologo prima linea"],
        "carfilzomib_refractory": ["Refrattario a carfilzomib", "Refrattarietà carfilzomib", "Carfilzomib refrattario"],
        "bortezomib_refractory": ["Refrattario a bortezomib", "Refrattarietà bortezomib", "Bortezomib refrattario"],
        "len_start_date": ["Data inizio lenalidomide", "Inizio lenalidomide", "Data inizio Revlimid"],
        "len_end_date": ["Data fine lenalidomide", "Ultima dose lenalidomide", "Stop lenalidomide (data)"],
        "len_dose_start_mg": ["Dose iniziale lenalidomide (mg)", "Lenalidomide dose iniziale", "Dose lena inizio (mg/die)"],
        "len_dose_pd_mg": ["Dose lenalidomide alla progressione (mg)", "Dose lenalidomide alla recidiva",
                           "Lena dose alla PD"],
        "first_relapse_date": ["Data prima recidiva", "Data della prima progressione", "Recidiva 1 (data)"],
        "creatinine_mg_dl": ["Creatinina", "Creatinina (mg/dL)", "Creatininemia alla recidiva"],
        "calcium_mg_dl": ["Calcemia", "Calcio (mg/dL)", "Calcio sierico"],
        "bm_pc_pct_relapse": ["Plasmacellule midollari %", "Infiltrazione plasmacellulare midollare (%)",
                              "PC midollari %"],
        "emd_relapse": ["Malattia extramidollare", "EMD alla recidiva", "Localizzazioni extramidollari (PET)"],
        "cyto_risk_relapse": ["Citogenetica alto rischio alla recidiva", "Rischio citogenetico alla recidiva",
                              "FISH recidiva (rischio)"],
        "del17p_relapse": ["del(17p) alla recidiva", "Delezione 17p recidiva", "del17p"],
        "chr1_relapse": ["Cromosoma 1 alla recidiva", "Alterazioni cr. 1 (recidiva)", "1q/1p recidiva"],
        "daravd_start_date": ["Data inizio DaraVd", "Inizio Dara-Vd", "Data inizio seconda linea"],
        "dara_route_start": ["Via di somministrazione daratumumab", "Daratumumab (via)", "Via dara"],
        "bortezomib_start_dose_mg_m2": ["Dose iniziale bortezomib (mg/m2)", "Bortezomib dose iniziale",
                                        "Dose Velcade (mg/mq)"],
        "dex_start_group": ["Dose iniziale desametasone", "Desametasone (mg/settimana)", "Dex dose iniziale"],
        "cycles_received": ["Numero cicli", "Cicli ricevuti", "N. cicli DaraVd"],
        "daravd_end_date": ["Data fine DaraVd", "Data ultima somministrazione DaraVd", "Stop DaraVd (data)"],
        "daravd_end_reason": ["Motivo interruzione DaraVd", "Causa sospensione", "Motivo fine terapia"],
        "dara_doses_skipped": ["Dosi daratumumab saltate", "Dosi dara omesse", "N. dosi saltate daratumumab"],
        "bortezomib_dose_reduced": ["Riduzione dose bortezomib", "Bortezomib ridotto",
                                    "Riduzione bortezomib per tossicità"],
        "bortezomib_reduction_cycle": ["Ciclo riduzione bortezomib", "Ciclo della prima riduzione di bortezomib",
                                       "Riduzione bortezomib (ciclo)"],
        "bortezomib_weekly_switch": ["Passaggio a bortezomib settimanale", "Bortezomib settimanale",
                                     "Switch bortezomib weekly"],
        "salvage_asct": ["Autotrapianto di salvataggio", "ASCT di salvataggio", "Trapianto salvataggio"],
        "salvage_asct_cycle": ["Cicli prima dell'autotrapianto di salvataggio", "ASCT salvataggio (ciclo)",
                               "Ciclo trapianto di salvataggio"],
        "montelukast_premedication": ["Premedicazione con montelukast", "Montelukast", "Premedicazione montelukast"],
        "best_response": ["Risposta migliore", "Migliore risposta (IMWG)", "Miglior risposta"],
        "best_response_date": ["Data migliore risposta", "Data della risposta migliore", "Miglior risposta (data)"],
        "vgpr_first_date": ["Data prima VGPR", "Data raggiungimento MBRP o migliore", "Prima risposta >= VGPR (data)"],
        "progression_date": ["Data di progressione", "Data progressione", "Progressione (data)"],
        "next_treatment_date": ["Data inizio terza linea", "Data inizio linea successiva", "Inizio III linea"],
        "second_progression_date": ["Data seconda progressione", "Data progressione terza linea",
                                    "PFS2 (data evento)"],
        "death_date": ["Data decesso", "Data di morte", "Deceduto il"],
        "death_cause": ["Causa di morte", "Causa decesso", "Causa del decesso"],
        "last_followup_date": ["Data ultimo follow-up", "Data ultimo contatto", "Ultimo FU"],
        "ae_anemia_grade": ["Anemia (grado CTCAE)", "Anemia grado max", "Anemia"],
        "ae_thrombocytopenia_grade": ["Piastrinopenia (grado CTCAE)", "Trombocitopenia grado max", "Piastrinopenia"],
        "ae_neutropenia_grade": ["Neutropenia (grado CTCAE)", "Neutropenia grado max", "Neutropenia"],
        "ae_irr_grade": ["Reazione infusionale (grado CTCAE)", "IRR grado max", "Reazioni correlate all'infusione"],
        "ae_pn_grade": ["Neuropatia periferica (grado CTCAE)", "Neuropatia grado max", "Neuropatia periferica"],
        "ae_pn_outcome": ["Esito neuropatia periferica", "Evoluzione neuropatia", "Neuropatia (esito)"],
        "ae_infection_grade": ["Infezioni (grado CTCAE)", "Infezione grado max", "Infezioni"],
        "ae_pneumonia_grade": ["Polmonite (grado CTCAE)", "Polmonite grado max", "Polmonite"],
        "ae_herpes_zoster_grade": ["Herpes zoster (grado CTCAE)", "Riattivazione zoster grado max", "Herpes zoster"],
        "ae_asthenia_grade": ["Astenia (grado CTCAE)", "Astenia grado max", "Astenia"],
        "ae_diarrhoea_grade": ["Diarrea (grado CTCAE)", "Diarrea grado max", "Diarrea"],
        "ae_nausea_grade": ["Nausea (grado CTCAE)", "Nausea grado max", "Nausea"],
        "ae_constipation_grade": ["Stipsi (grado CTCAE)", "Stitichezza grado max", "Stipsi"],
        "ae_skin_rash_grade": ["Rash cutaneo (grado CTCAE)", "Eruzione cutanea grado max", "Rash cutaneo"],
        "ae_hepatic_grade": ["Tossicità epatica (grado CTCAE)", "Epatotossicità grado max", "Tossicità epatica"],
    },
    "english": {
        "patient_id": ["Patient ID", "Subject number", "Pt code"],
        "center": ["Centre", "Site", "Enrolling site"],
        "birth_date": ["Date of birth", "DOB", "Birth date"],
        "sex": ["Sex", "Gender", "Sex at birth"],
        "isotype": ["Isotype", "M-protein type", "Paraprotein isotype"],
        "diagnosis_date": ["Date of diagnosis", "MM diagnosis date", "Diagnosis date"],
        "iss_dx": ["ISS stage", "ISS at diagnosis", "ISS (diagnosis)"],
        "riss_dx": ["R-ISS stage", "Revised ISS", "R-ISS at diagnosis"],
        "cyto_risk_dx": ["Cytogenetic risk at diagnosis", "High-risk FISH (diagnosis)", "FISH risk at dx"],
        "chr1_dx": ["Chromosome 1 abnormality at diagnosis", "Chr 1 (diagnosis)", "1q/1p status at dx"],
        "first_line_class": ["First-line therapy", "Frontline regimen class", "1st line backbone"],
        "first_line_start_date": ["First-line start date", "Start of frontline therapy", "1st line start"],
        "asct_first_line": ["ASCT in first line", "Upfront autologous transplant", "Frontline ASCT"],
        "carfilzomib_refractory": ["Carfilzomib refractory", "Refractory to carfilzomib", "CFZ refractory"],
        "bortezomib_refractory": ["Bortezomib refractory", "Refractory to bortezomib", "BTZ refractory"],
        "len_start_date": ["Lenalidomide start date", "Start of lenalidomide", "Len start"],
        "len_end_date": ["Lenalidomide end date", "Last lenalidomide dose date", "Len stop"],
        "len_dose_start_mg": ["Lenalidomide starting dose (mg)", "Len start dose", "Initial lenalidomide dose"],
        "len_dose_pd_mg": ["Lenalidomide dose at progression (mg)", "Len dose at relapse", "Lenalidomide dose at PD"],
        "first_relapse_date": ["Date of first relapse", "First progression date", "Relapse 1 date"],
        "creatinine_mg_dl": ["Creatinine (mg/dL)", "Serum creatinine", "Creatinine at relapse"],
        "calcium_mg_dl": ["Calcium (mg/dL)", "Serum calcium", "Calcium at relapse"],
        "bm_pc_pct_relapse": ["Bone marrow plasma cells (%)", "BMPC %", "Marrow plasma cell infiltration"],
        "emd_relapse": ["Extramedullary disease", "EMD at relapse", "Extramedullary plasmacytoma (PET/CT)"],
        "cyto_risk_relapse": ["Cytogenetic risk at relapse", "High-risk FISH (relapse)", "FISH risk at relapse"],
        "del17p_relapse": ["del(17p) at relapse", "17p deletion", "Del17p relapse"],
        "chr1_relapse": ["Chromosome 1 abnormality at relapse", "Chr 1 (relapse)", "1q/1p status at relapse"],
        "daravd_start_date": ["DaraVd start date", "Date of first DVd dose", "Second-line start date"],
        "dara_route_start": ["Daratumumab route", "Dara administration route", "Route (daratumumab)"],
        "bortezomib_start_dose_mg_m2": ["Bortezomib starting dose (mg/m2)", "BTZ start dose", "Initial bortezomib dose"],
        "dex_start_group": ["Dexamethasone starting dose", "Dex dose group", "Initial dexamethasone (mg/week)"],
        "cycles_received": ["Number of cycles", "Cycles received", "No. of DaraVd cycles"],
        "daravd_end_date": ["DaraVd end date", "Date of last DaraVd dose", "Treatment discontinuation date"],
        "daravd_end_reason": ["Reason for discontinuation", "DaraVd stop reason", "End of treatment reason"],
        "dara_doses_skipped": ["Daratumumab doses skipped", "Missed dara doses", "Skipped daratumumab doses (n)"],
        "bortezomib_dose_reduced": ["Bortezomib dose reduction", "BTZ reduced", "Bortezomib dose reduced for toxicity"],
        "bortezomib_reduction_cycle": ["Cycle of bortezomib reduction", "BTZ reduction cycle",
                                       "First bortezomib reduction (cycle)"],
        "bortezomib_weekly_switch": ["Switch to weekly bortezomib", "Weekly BTZ", "Bortezomib once weekly"],
        "salvage_asct": ["Salvage ASCT", "Salvage autologous transplant", "Salvage transplant"],
        "salvage_asct_cycle": ["Cycles before salvage ASCT", "Salvage ASCT cycle", "Salvage transplant (cycle)"],
        "montelukast_premedication": ["Montelukast premedication", "Montelukast", "Premedication with montelukast"],
        "best_response": ["Best response", "Best overall response (IMWG)", "BOR"],
        "best_response_date": ["Date of best response", "Best response date", "BOR date"],
        "vgpr_first_date": ["Date of first VGPR", "First VGPR or better", "VGPR date"],
        "progression_date": ["Progression date", "Date of progression", "PD date"],
        "next_treatment_date": ["Next treatment start date", "Third-line start", "Date of next therapy"],
        "second_progression_date": ["Second progression date", "PFS2 event date", "Progression on next line"],
        "death_date": ["Date of death", "Death date", "Died on"],
        "death_cause": ["Cause of death", "Death cause", "Primary cause of death"],
        "last_followup_date": ["Last follow-up date", "Date last known alive", "Last contact"],
        "ae_anemia_grade": ["Anaemia (CTCAE grade)", "Anemia max grade", "Anemia"],
        "ae_thrombocytopenia_grade": ["Thrombocytopenia (CTCAE grade)", "Thrombocytopenia max grade",
                                      "Low platelets"],
        "ae_neutropenia_grade": ["Neutropenia (CTCAE grade)", "Neutropenia max grade", "Neutropenia"],
        "ae_irr_grade": ["Infusion-related reaction (CTCAE grade)", "IRR max grade", "Infusion reaction"],
        "ae_pn_grade": ["Peripheral neuropathy (CTCAE grade)", "PN max grade", "Peripheral neuropathy"],
        "ae_pn_outcome": ["Peripheral neuropathy outcome", "PN outcome", "Neuropathy resolution"],
        "ae_infection_grade": ["Infection (CTCAE grade)", "Any infection max grade", "Infections"],
        "ae_pneumonia_grade": ["Pneumonia (CTCAE grade)", "Pneumonia max grade", "Pneumonia"],
        "ae_herpes_zoster_grade": ["Herpes zoster (CTCAE grade)", "Zoster reactivation max grade", "Shingles"],
        "ae_asthenia_grade": ["Asthenia (CTCAE grade)", "Fatigue max grade", "Asthenia"],
        "ae_diarrhoea_grade": ["Diarrhoea (CTCAE grade)", "Diarrhea max grade", "Diarrhea"],
        "ae_nausea_grade": ["Nausea (CTCAE grade)", "Nausea max grade", "Nausea"],
        "ae_constipation_grade": ["Constipation (CTCAE grade)", "Constipation max grade", "Constipation"],
        "ae_skin_rash_grade": ["Skin rash (CTCAE grade)", "Rash max grade", "Rash"],
        "ae_hepatic_grade": ["Hepatic toxicity (CTCAE grade)", "Liver toxicity max grade", "Hepatotoxicity"],
    },
}

# Columns an e-CRF exports beside the study's variables: (header, kind of values)
EXTRAS = {
    "italian": [("Peso (kg)", "weight"), ("Altezza (cm)", "height"), ("Emoglobina (g/dL)", "haemoglobin"),
                ("LDH (U/L)", "ldh"), ("Data consenso informato", "consent"), ("Note", "note"),
                ("Medico compilatore", "doctor"), ("Numero linee precedenti", "lines"),
                ("Data inserimento scheda", "entered"), ("Beta2-microglobulina (mg/L)", "b2m")],
    "english": [("Weight (kg)", "weight"), ("Height (cm)", "height"), ("Haemoglobin (g/dL)", "haemoglobin"),
                ("LDH (U/L)", "ldh"), ("Informed consent date", "consent"), ("Comments", "note"),
                ("Investigator", "doctor"), ("Prior lines", "lines"), ("Record created", "entered"),
                ("Beta-2 microglobulin (mg/L)", "b2m")],
}

# Label sets: several per style, one drawn per export and variable; code -> label
FLAG = {"italian": [{"1": "Sì", "0": "No"}, {"1": "SI", "0": "NO"}, {"1": "si", "0": "no"}, {"1": "1", "0": "0"}],
        "english": [{"1": "Yes", "0": "No"}, {"1": "Y", "0": "N"}, {"1": "1", "0": "0"}]}
LABELS = {
    "italian": {
        "sex": [{"M": "Maschio", "F": "Femmina"}, {"M": "M", "F": "F"}],
        "isotype": ["light", {"IgG": "IgG", "IgA": "IgA", "IgD": "IgD", "IgM": "IgM", "BJ": "Micromolecolare"}],
        "best_response": [{"sCR": "RCs", "CR": "RC", "VGPR": "MBRP", "PR": "RP", "MR": "RM", "SD": "MS", "PD": "PM",
                           "NE": "NV"},
                          {"sCR": "sCR", "CR": "RC", "VGPR": "VGPR", "PR": "RP", "MR": "MR", "SD": "SD", "PD": "PD",
                           "NE": "NV"}],
        "iss_dx": [{"I": "I", "II": "II", "III": "III"}, {"I": "1", "II": "2", "III": "3"}],
        "cyto_risk_dx": [{"high": "Alto rischio", "standard": "Rischio standard"}, {"high": "alto", "standard": "standard"}],
        "chr1_dx": [{"none": "nessuna", "del1p": "del(1p)", "gain1q": "gain(1q)", "amp1q": "amp(1q)"},
                    {"none": "normale", "del1p": "delezione 1p", "gain1q": "guadagno 1q", "amp1q": "amplificazione 1q"}],
        "first_line_class": [{"bortezomib": "Bortezomib", "lenalidomide": "Lenalidomide", "carfilzomib": "Carfilzomib"},
                             {"bortezomib": "VTd", "lenalidomide": "Rd", "carfilzomib": "KRd"}],
        "asct_first_line": [{"none": "nessuno", "single": "singolo", "double": "doppio"},
                            {"none": "No", "single": "Singolo", "double": "Tandem"}],
        "dara_route_start": [{"IV": "EV", "SC": "SC"}, {"IV": "endovena", "SC": "sottocute"}],
        "dex_start_group": [{"full": "dose piena", "80": "80 mg", "40": "40 mg", "20": "20 mg"},
                            {"full": "piena", "80": "80", "40": "40", "20": "20"}],
        "daravd_end_reason": [{"PD": "progressione", "toxicity": "tossicità", "death": "decesso",
                               "ASCT": "autotrapianto", "unknown": "non noto"}],
        "death_cause": [{"myeloma": "mieloma", "adverse_event": "evento avverso", "other": "altro",
                         "unknown": "sconosciuta"}],
        "ae_pn_outcome": [{"resolved": "risolta", "improved": "migliorata", "unchanged": "invariata"}],
    },
    "english": {
        "sex": [{"M": "Male", "F": "Female"}, {"M": "M", "F": "F"}],
        "isotype": ["light", {"IgG": "IgG", "IgA": "IgA", "IgD": "IgD", "IgM": "IgM", "BJ": "Light chain only"}],
        "best_response": [{"sCR": "Stringent complete response", "CR": "Complete response",
                           "VGPR": "Very good partial response", "PR": "Partial response", "MR": "Minimal response",
                           "SD": "Stable disease", "PD": "Progressive disease", "NE": "Not evaluable"},
                          {c: c for c in ("sCR", "CR", "VGPR", "PR", "MR", "SD", "PD", "NE")}],
        "iss_dx": [{"I": "Stage I", "II": "Stage II", "III": "Stage III"}, {"I": "I", "II": "II", "III": "III"}],
        "cyto_risk_dx": [{"high": "High risk", "standard": "Standard risk"}, {"high": "High", "standard": "Standard"}],
        "chr1_dx": [{"none": "None", "del1p": "del(1p)", "gain1q": "gain(1q)", "amp1q": "amp(1q)"},
                    {"none": "Normal", "del1p": "1p deletion", "gain1q": "1q gain", "amp1q": "1q amplification"}],
        "first_line_class": [{"bortezomib": "Bortezomib-based", "lenalidomide": "Lenalidomide-based",
                              "carfilzomib": "Carfilzomib-based"}],
        "asct_first_line": [{"none": "None", "single": "Single", "double": "Tandem"},
                            {"none": "No", "single": "Single", "double": "Double"}],
        "dara_route_start": [{"IV": "IV", "SC": "SC"}, {"IV": "Intravenous", "SC": "Subcutaneous"}],
        "dex_start_group": [{"full": "Full dose", "80": "80 mg/week", "40": "40 mg/week", "20": "20 mg/week"}],
        "daravd_end_reason": [{"PD": "Progression", "toxicity": "Toxicity", "death": "Death", "ASCT": "Transplant",
                               "unknown": "Unknown"}],
        "death_cause": [{"myeloma": "Myeloma", "adverse_event": "Adverse event", "other": "Other",
                         "unknown": "Unknown"}],
        "ae_pn_outcome": [{"resolved": "Resolved", "improved": "Improved", "unchanged": "Unchanged"}],
    },
}
SHARED = {"riss_dx": "iss_dx", "cyto_risk_relapse": "cyto_risk_dx", "chr1_relapse": "chr1_dx"}
DATE_FORMATS = {"italian": ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"], "english": ["%m/%d/%Y", "%Y-%m-%d", "%d-%b-%Y"]}
MISSING = {"italian": ["", "", "n.d."], "english": ["", "", "N/A"]}
EXCEL_EPOCH = pd.Timestamp("1899-12-30")


@dataclass
class Export:
    frame: pd.DataFrame
    style: str
    columns: dict[str, str]                    # variable -> export column
    codes: dict[str, dict[str, str]]           # variable -> {export label: dictionary code}
    dates: dict[str, str] = field(default_factory=dict)  # variable -> strftime format or "excel"
    decimal: str = "."
    missing: str = ""

    def in_aliases(self, aliases: set[str]) -> dict[str, bool]:
        """Whether each variable's header is, folded, literally one of the alias file's names."""
        return {v: fold(c) in aliases for v, c in self.columns.items()}


def fold(text: str) -> str:
    import re
    import unicodedata
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "", text)


def _perturb(header: str, rng: np.random.Generator, position: int) -> str:
    """What e-CRF exports do to a label: case, separators, numbered items, accents dropped."""
    kind = rng.choice(["as is", "as is", "as is", "upper", "lower", "underscore", "numbered", "plain ascii"])
    if kind == "upper":
        return header.upper()
    if kind == "lower":
        return header.lower()
    if kind == "underscore":
        return header.replace(" ", "_")
    if kind == "numbered":
        return f"{position}. {header}"
    if kind == "plain ascii":
        import unicodedata
        return unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode()
    return header


def _light_chain(isotype: str, rng: np.random.Generator, style: str) -> str:
    chain = rng.choice(["kappa", "lambda"])
    if isotype == "BJ":
        return f"Micromolecolare {chain}" if style == "italian" else f"Light chain {chain}"
    return f"{isotype} {chain}"


def _extra_values(kind: str, cohort: pd.DataFrame, rng: np.random.Generator, date_of) -> list[str]:
    n = len(cohort)
    if kind == "weight":
        return [f"{w:.0f}" for w in rng.normal(72, 12, n)]
    if kind == "height":
        return [f"{h:.0f}" for h in rng.normal(168, 9, n)]
    if kind == "haemoglobin":
        return [f"{h:.1f}" for h in rng.normal(11.2, 1.6, n)]
    if kind == "ldh":
        return [f"{h:.0f}" for h in rng.normal(230, 60, n)]
    if kind == "b2m":
        return [f"{h:.1f}" for h in rng.gamma(3, 1.3, n)]
    if kind == "lines":
        return ["1"] * n
    if kind == "consent":  # a few days before the start of DaraVd: a date column that competes with it
        start = pd.to_datetime(cohort["daravd_start_date"])
        return date_of(start - pd.to_timedelta(rng.integers(1, 15, n), unit="D"))
    if kind == "entered":
        last = pd.to_datetime(cohort["last_followup_date"])
        return date_of(last + pd.to_timedelta(rng.integers(5, 60, n), unit="D"))
    if kind == "doctor":
        return list(rng.choice(["Dr. Rossi", "Dr. Bianchi", "Dr. Verdi", "Dr. Russo"], n))
    return list(rng.choice(["", "", "", "vedi cartella", "ok", "dato da verificare"], n))


class _First:
    """Stands in for the random generator of a plain export: the first of every choice, no change."""

    def choice(self, options, **_):
        return options[0]

    def integers(self, low, high=None):
        return 0

    def random(self):
        return 1.0

    def permutation(self, items):
        return list(items)


def relabel(cohort: pd.DataFrame, dictionary: pd.DataFrame, style: str, seed: int | None,
            omit_optional: bool | None = None) -> Export:
    """One relabelled export of ``cohort`` (the dictionary's text table), drawn from ``seed``.

    ``seed=None`` is the plain export: each variable's first header and labels as listed here
    (the issue's example for the Italian style: ID paziente, Sesso, Maschio, IgG kappa, RC, Sì,
    DD/MM/YYYY), in the dictionary's order, without extra columns."""
    rng = _First() if seed is None else np.random.default_rng(seed)
    spec = dictionary.set_index("name")
    variables = list(dictionary["name"])
    if omit_optional if omit_optional is not None else rng.random() < 0.3:
        variables.remove("vgpr_first_date")
    date_format = str(rng.choice(DATE_FORMATS[style]))
    date_vars = [v for v in variables if spec.loc[v, "type"] == "date"]
    excel = set(rng.choice(date_vars, size=int(rng.integers(0, 3)), replace=False)) if rng.random() < 0.4 else set()
    decimal = "," if style == "italian" and rng.random() < 0.5 else "."
    missing = str(rng.choice(MISSING[style]))

    def dates(values: pd.Series, fmt: str) -> list[str]:
        parsed = pd.to_datetime(values.replace("", None))
        if fmt == "excel":
            return [("" if pd.isna(d) else str((d - EXCEL_EPOCH).days)) for d in parsed]
        return [("" if pd.isna(d) else d.strftime(fmt)) for d in parsed]

    out, columns, codes, formats = {}, {}, {}, {}
    used_headers = set()
    for position, var in enumerate(variables, 1):
        header = _perturb(str(rng.choice(HEADERS[style][var])), rng, position)
        while header in used_headers:  # two variables drawn the same label: a real export cannot have that
            header += " (2)"
        used_headers.add(header)
        columns[var] = header
        values = cohort[var]
        typ = spec.loc[var, "type"]
        if typ == "date":
            fmt = "excel" if var in excel else date_format
            formats[var] = fmt
            cells = dates(values, fmt)
        elif typ == "flag":
            labels = FLAG[style][int(rng.integers(len(FLAG[style])))]
            codes[var] = {labels[c]: c for c in labels if c in set(values)}
            cells = [labels.get(v, v) for v in values]
        elif typ == "category":
            options = LABELS[style].get(SHARED.get(var, var))
            if var.startswith("cyto_risk") and "alto rischio" in header.lower():
                options = [{"high": "Sì", "standard": "No"}]  # a yes/no question: "high-risk cytogenetics?"
            if options is None:
                cells = list(values)
            else:
                labels = options[int(rng.integers(len(options)))]
                if labels == "light":
                    cells = [_light_chain(v, rng, style) if v in ("IgG", "IgA", "IgD", "IgM", "BJ") else v
                             for v in values]
                    codes[var] = {c: ("BJ" if c.startswith(("Micro", "Light")) else c.split()[0])
                                  for c in set(cells) if c}
                else:
                    cells = [labels.get(v, v) for v in values]
                    codes[var] = {labels[c]: c for c in labels if c in set(values)}
        elif typ == "number" and decimal == ",":
            cells = [v.replace(".", ",") for v in values]
        else:
            cells = list(values)
        if missing and var not in ("patient_id", "center"):
            cells = [missing if c == "" else c for c in cells]
        out[header] = cells
    extras = EXTRAS[style] if seed is not None else []
    for header, kind in [extras[i] for i in (rng.choice(len(extras), size=int(rng.integers(3, len(extras) + 1)),
                                                           replace=False) if extras else [])]:
        out[header] = _extra_values(kind, cohort, rng, lambda s: dates(s.dt.strftime("%Y-%m-%d"), date_format))
    frame = pd.DataFrame(out)
    frame = frame[list(rng.permutation(frame.columns))]
    return Export(frame, style, columns, codes, formats, decimal, missing)
