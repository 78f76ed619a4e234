"""Write src/rueckenlotse/services/common_passwords.txt: the passwords people pick first.

No published leak list is copied (their licences are unclear and they are mostly too short for our ten
characters anyway). The list is made from well-known facts about how people choose passwords: words a
German or English speaker reaches for first (the word "Passwort" itself, greetings, names of pets, seasons,
football clubs, cities, this app and its setting), the keyboard walks of German (QWERTZ) and English
(QWERTY) keyboards, and runs of digits and letters. The check (services.common_passwords) also strips
digits and punctuation from the end ("Sommer2024!") and refuses runs, repeats and dates by rule, so the
list holds the stems; the combinations below only add the most frequent forms in full.

Run: python scripts/common_passwords.py
"""

from __future__ import annotations

from pathlib import Path

TARGET = Path(__file__).resolve().parents[1] / "src" / "rueckenlotse" / "services" / "common_passwords.txt"

WORDS = """
passwort password passwd passw0rt passw0rd kennwort geheim geheimnis secret geheimcode zugang login
anmelden admin administrator root user benutzer nutzer test testtest tester demo gast guest welcome
willkommen hallo hello hallowelt helloworld servus moin tschuess ciao letmein lassmichrein changeme
aendern default standard start starten neu neustart master qwerty qwertz asdf yxcv abc abcd abcdef
iloveyou ichliebedich liebe love schatz schatzi hase hasi maus mausi baer baerchen engel angel
sonne sunshine sonnenschein mond stern sterne himmel blume blumen rose herz herzchen princess prinzessin
prinz koenig koenigin dragon drache monkey affe tiger loewe katze kater hund hunde pferd pony fisch
vogel bello rex luna balu lucky sammy charlie max moritz felix lilly lucy nala kira emma mia paul leon
lukas jonas anna lena laura julia sarah lisa michael thomas andreas stefan daniel markus christian
peter klaus frank sabine petra susanne claudia nicole andrea maria sophie mama papa oma opa familie
baby kinder sommer winter fruehling herbst januar februar maerz april juni juli august september
oktober november dezember montag dienstag freitag samstag sonntag wochenende urlaub ferien
fussball football soccer baseball basketball hockey tennis golf bayern fcbayern borussia bvb schalke
werder hsv eintracht vfb koeln fc union hertha deutschland germany berlin hamburg muenchen munich koeln
frankfurt stuttgart dresden leipzig bremen hannover europa mercedes porsche audi bmw volkswagen golf
computer internet laptop handy iphone samsung google facebook instagram whatsapp netflix amazon apple
microsoft windows linux pokemon minecraft fortnite starwars batman superman matrix harrypotter
ruecken rueckenlotse lotse rueckenschmerz rueckenschmerzen schmerz schmerzen bandscheibe praxis arzt
aerztin doktor doctor patient patientin gesundheit health krankenhaus klinik physio physiotherapie
therapie termin rezept medizin apotheke pflege schwester notfall sicher sicherheit security safe
trustno1 access zugangscode pin tan code schluessel key freiheit freedom frieden leben life
glueck gluecklich happy lachen spass fun party bier wein kaffee schokolade pizza
""".split()

KEYBOARD = """
qwertzuiop qwertzuiopue qwertyuiop asdfghjkl asdfghjkloe yxcvbnm zxcvbnm qwertz qwerty asdfgh yxcvbn
zxcvbn qweasd qweasdyxc qweasdzxc qayxsw qaywsx 1qay2wsx 1qaz2wsx 1qay2wsx3edc 1qaz2wsx3edc
1q2w3e4r 1q2w3e4r5t 1q2w3e4r5t6z 1q2w3e4r5t6y q1w2e3r4 q1w2e3r4t5 qwer1234 asdf1234 yxcv1234
qwertz123 qwerty123 qwertz1234 qwerty1234 qwertz12345 qwerty12345 1234qwer 123qwe 123qweasd
123qweasdyxc 123qweasdzxc poiuztrewq poiuytrewq lkjhgfdsa mnbvcxy mnbvcxz
""".split()

# The check strips digits and punctuation from the end anyway; these are kept in full for a reader (and
# for any other use of the list). Years are left to the stripping.
SUFFIXES = ["", "1", "12", "123", "1234", "12345", "123456", "!", "1!", "123!", "01", "007"]


def entries() -> list[str]:
    found: set[str] = set(WORDS) | set(KEYBOARD)
    for word in WORDS + KEYBOARD:
        for suffix in SUFFIXES:
            found.add(word + suffix)
        found.add(word + word)  # "hallohallo"
    # Leetspeak forms of the stems: the strip-and-compare of the check does not see through these.
    swaps = str.maketrans({"a": "4", "e": "3", "i": "1", "o": "0", "s": "5"})
    found |= {word.translate(swaps) for word in WORDS}
    found |= {word.replace("o", "0").replace("a", "@") for word in WORDS}
    # The check refuses shorter passwords before it looks here: keep only what could reach it, and the
    # stems it compares against.
    return sorted(entry for entry in found if len(entry) >= 10 or entry in WORDS or entry in KEYBOARD)


def main() -> None:
    header = [
        "# Common passwords and their stems, one per line, compared case-insensitively.",
        "# Made by scripts/common_passwords.py from well-known habits (words, keyboard walks, years);",
        "# no published list is copied. Edit the script, not this file.",
    ]
    TARGET.write_text("\n".join(header + entries()) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
