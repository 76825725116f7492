"""Device type from a user agent: phone, tablet, desktop, TV or console, by a stated rule.

ua-parser (uap-core) names browsers, OSes and device models but not device types, so footfall
decides the type from tokens, in this order (the first that says something wins):

1. consoles (PlayStation, Xbox, Nintendo, OUYA);
2. TV sets and boxes: the tokens of smart-TV platforms and standards (SmartTV, Web0S, HbbTV,
   NETTV, NetCast, BRAVIA, VIDAA, Android TV, GoogleTV, Fire TV's `AFT` models, Tizen TV, CE-HTML,
   Opera's TV browser `OMI/`, set-top boxes) and a model named "TV";
3. tablets: iPad, Kindle and Fire tablets, `Tablet`, and model lines that are tablets (Galaxy Tab
   `SM-T`/`SM-X`/`SM-P`, Lenovo `TB-`, Huawei MediaPad/MatePad, "Tab", "Pad", Yandex's `/apad`);
4. phones: `Mobile`, iPhone/iPod, Windows Phone, BlackBerry, KaiOS, and feature phones (MIDP,
   CLDC, WAP and UP.Browser, Series 40/60, BREW, MAUI, Obigo, NetFront);
5. the rest of Android: an app's `Dalvik` client is a phone's; without `Mobile`, Chrome's tablet
   form (with `Safari/`) is a tablet, except on Samsung's foldable phones (`SM-F`), and any other
   shape (a truncated webview's) a phone's;
6. desktops: Windows, macOS (and its Darwin clients on Intel and PowerPC), ChromeOS (Android apps
   on a Chromebook included), X11 and any other Linux, the BSDs, Solaris, and the rarer desktop
   systems (Haiku, AmigaOS, MorphOS, OS/2, RISC OS, OpenVMS...).

Anything else has no type (None), shown as "unknown" in breakdowns. Measured by
bench/user_agents.py against Matomo's labels and Intoli's, with a confusion table in
docs/benchmarks.md: the rule's known floor is models that only a device database tells (a TV
box named "X96Max_Plus_Q2", a tablet named "B1-790" that sends "Mobile").
"""

from __future__ import annotations

import re

_CONSOLE = re.compile(r"PlayStation|Xbox|Nintendo|\bPSP\b|\bOUYA\b", re.IGNORECASE)
_TV = re.compile(
    r"SmartTV|SMART-TV|Smart[ _-]TV|HbbTV|Apple ?TV|Google ?TV|Android ?TV|CrKey|Roku|\bAFT[A-Z]|Web0S|webOS\.TV|"
    r"NETTV|NetCast|BRAVIA|VIDAA|CE-HTML|\bTbrowser/|\bOMI/|\bSTB\b|Large Screen|Opera TV|\bTiVo\b|BrightSign|"
    r"SmartHub|SonyCEBrowser|Maple\d|_TV_|\bATV\b|MiTV|\bMiBOX|Chromecast|Fire ?TV|Tizen[^;)]*TV|"
    r"\bTV(?:[ _-]?Box)?\b",
    re.IGNORECASE,
)
_TABLET = re.compile(
    r"iPad|Tablet|PlayBook|\bSilk\b|Kindle|\bKF[A-Z]{2,6}\b|Nexus (?:7|9|10)\b|\bSM-[TPX]\d|\bGT-P\d|\bTab\b|"
    r"\bTab[ _-]?[A-Z]?\d|MediaPad|MatePad|\bPad\b|\bPad[ _-]?\d|/apad\b|Lenovo TB|\bTB-[A-Z]?\d|Xoom|"
    r"Transformer|Iconia|Yoga Tab",
    re.IGNORECASE,
)
_PHONE = re.compile(
    r"Mobi|iPhone|iPod|Windows Phone|BlackBerry|\bBB10\b|KAIOS|IEMobile|Opera Mini|MIDP|CLDC|WAP|UP\.Browser|"
    r"Series ?(?:40|60)|\bBREW\b|MAUI|Obigo|NetFront|Symbian|^dv\(|portalmmm|\bMMP/",
    re.IGNORECASE,
)
_FOLDABLE = re.compile(r"\bSM-F\d")  # Galaxy Fold and Flip phones, which send the tablet form unfolded
_DESKTOP = re.compile(
    r"Windows NT|Windows (?:9[58]|2000|XP|ME)|Win(?:9[58]|NT|32|64)|Macintosh|Mac OS X|Mac_PowerPC|\bCrOS\b|X11|"
    r"Linux (?:x86_64|i[3-6]86|amd64)|BSD|SunOS|Solaris|Haiku|BeOS|AmigaOS|MorphOS|OS/2|RISC ?OS|OpenVMS|IRIX|"
    r"\bAIX\b|HP-UX|\bLinux\b|CYGWIN|\bwin(?:7|8|10|11)\b|Darwin/[\d.]+ \((?:x86_64|i386|Power Macintosh)",
    re.IGNORECASE,
)


def device_type(ua: str, os_name: str | None) -> str | None:
    """mobile | tablet | desktop | tv | console, or None when nothing says which."""
    if not ua:
        return None
    if _CONSOLE.search(ua):
        return "console"
    if _TV.search(ua):
        return "tv"
    if _TABLET.search(ua):
        return "tablet"
    if _PHONE.search(ua) or os_name == "iOS":
        return "mobile"
    if "Chromebook" in ua:
        return "desktop"  # Android apps on ChromeOS
    if os_name == "Android" or "Android" in ua:
        if ua.startswith("Dalvik/") or "Safari/" not in ua or _FOLDABLE.search(ua):
            return "mobile"
        return "tablet"  # Chrome's tablet form: Android without "Mobile"
    if _DESKTOP.search(ua):
        return "desktop"
    return None
