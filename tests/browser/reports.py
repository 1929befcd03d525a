"""The real reports the browser tests' service holds: public texts from ../shared/data, tagged and
indexed by the shipped model when the session starts (nothing cached, nothing committed).

- 16 texts of realtrain (press releases and news, trimmed; no dates): every third one of each
  label set, so each domain and the two-domain cases show on the page.
- 10 US county prosecutors' press releases as the scraper stored them, page furniture (menus,
  contact blocks, "latest posts") included and a published date in the text: what intake really
  gets, and the dates the trends and date histogram need.
"""

from __future__ import annotations

import json
import tarfile
from collections import defaultdict
from pathlib import Path

from kunlun_nlp.document import Document

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
REALTRAIN = SHARED_DATA / "realtrain" / "realtrain.jsonl"
PRESS_RELEASES = SHARED_DATA / "prosecutor_press_releases" / "text.tar.gz"
REALTRAIN_PER_LABELS = {("FOOD",): 3, ("MEDICINE",): 3, ("ENVIRONMENT",): 2, ("INTELLECTUAL_PROPERTY",): 2, ("OTHER",): 2,
                        ("FOOD", "INTELLECTUAL_PROPERTY"): 2, ("MEDICINE", "INTELLECTUAL_PROPERTY"): 2}
RELEASES = (  # in-domain ones mostly (the archive is mostly violent crime and office news), two of those
    "orange_ca/press_man-convicted-of-illegally-importing-counterfeit-disney-pins-from-china-to-sell-over-the-internet.txt",
    "orange_ca/press_two-men-to-appear-in-court-for-illegally-importing-2-million-in-counterfeit-disney-pins-from-china-to-sell-over-th.txt",
    "orange_ca/press_orange-county-sheriffs-deputy-convicted-of-posessing-too-many-illegal-lobsters.txt",
    "orange_ca/press_albertsons-to-pay-3-3-million-settling-lawsuit-charging-illegal-disposal-and-mismanagement-of-hazardous-waste.txt",
    "orange_ca/press_ocda-and-california-food-drug-and-medical-device-task-force-settle-consumer-protection-action-against-sears.txt",
    "orange_ca/press_self-proclaimed-natural-doctor-convicted-of-treating-cancer-patients-without-a-license-and-practicing-medicine-whi.txt",
    "orange_ca/press_seller-beware-scam-targets-cars-for-sale.txt",
    "san_diego_ca/news_da-announces-3-2-million-settlement-of-hazardous-waste-case-against-firestone-complete-auto-care.txt",
    "san_diego_ca/news_pep-boys-pay-37-million-violating-environmental-protection-laws.txt",
    "harris_tx/20230419_law-enforcement-agencies-detail-joint-focus-on-major-fentanyl-dealers.txt",
)
SOURCES = {"orange_ca": "Orange County District Attorney", "san_diego_ca": "San Diego County District Attorney",
           "harris_tx": "Harris County District Attorney"}


def real_reports() -> list[Document]:
    return [*_realtrain(), *_press_releases()]


def _realtrain() -> list[Document]:
    by_labels: dict[tuple[str, ...], list[dict]] = defaultdict(list)
    with REALTRAIN.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            by_labels[tuple(record["domains"])].append(record)
    picked = [record for labels, count in REALTRAIN_PER_LABELS.items() for record in by_labels[labels][::3][:count]]
    return [Document.create(r["text"], title=r["title"], id=r["id"], source=r["source"]) for r in picked]


def _press_releases() -> list[Document]:
    wanted = {f"text/{name}": name for name in RELEASES}
    texts: dict[str, str] = {}
    with tarfile.open(PRESS_RELEASES, "r:gz") as archive:
        for member in archive:  # one pass through the stream
            if member.name in wanted:
                texts[wanted[member.name]] = archive.extractfile(member).read().decode("utf-8")
    missing = set(RELEASES) - set(texts)
    assert not missing, f"not in {PRESS_RELEASES}: {sorted(missing)}"
    return [Document.create(texts[name], id=f"{Path(name).parent}-{Path(name).stem}"[:80], source=SOURCES[Path(name).parent.name])
            for name in RELEASES]
