"""Realistic, reproducible demo data: teams, users, companies and contacts in twelve countries.

Everything comes from one `random.Random(seed)`, so the same `--seed` and `--scale` give the same data.
Rows are generated lazily and written by `contacts.bulk` in 5,000-row transactions, so a million contacts
need the memory of one batch plus a small record per company. Every record gets its history entry, its
`*.created` event and its search document, exactly as if it had been typed in.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import phonenumbers
from django.db import transaction
from phonenumbers import PhoneNumberType

from users.models import User
from users.services import team_get_or_create, user_create

from .bulk import companies_bulk_create, contacts_bulk_create
from .models import Contact

DEMO_PASSWORD = "crm-demo-2025"
DEFAULT_SCALE = 2000
DEFAULT_SEED = 20250101
REFERENCE_DATE = dt.date(2025, 6, 1)  # birthdays are relative to it, so the data never drifts
TEAMS = ["Sales EMEA", "Sales Americas", "Customer Success"]

# username, first name, last name, role, team (None: a new hire not yet in a team; sees only their own).
DEMO_USERS = [
    ("sofia", "Sofia", "Lindqvist", "manager", "Sales EMEA"),
    ("lukas", "Lukas", "Becker", "member", "Sales EMEA"),
    ("chloe", "Chloé", "Martin", "member", "Sales EMEA"),
    ("marta", "Marta", "Kowalska", "member", "Sales EMEA"),
    ("james", "James", "Carter", "manager", "Sales Americas"),
    ("ana", "Ana", "Souza", "member", "Sales Americas"),
    ("tyler", "Tyler", "Brooks", "member", "Sales Americas"),
    ("priya", "Priya", "Sharma", "manager", "Customer Success"),
    ("kenji", "Kenji", "Tanaka", "member", "Customer Success"),
    ("noah", "Noah", "Fischer", "member", None),
]
DEMO_USERNAMES = [u[0] for u in DEMO_USERS]


# ---------------------------------------------------------------------------------------------------------
# Country data: small hand-written lists, enough for plausible variety


@dataclass(frozen=True)
class Country:
    code: str
    weight: int
    region: str  # which sales team covers it
    currency: str
    tld: str
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    cities: tuple[tuple[str, str, str], ...]  # (city, region/state, postal code prefix)
    postal: Callable[[random.Random, str], str]
    street_names: tuple[str, ...]
    street: Callable[[random.Random, str], str]
    legal: tuple[str, ...]
    sectors: tuple[tuple[str, str], ...]  # (word in the local language, industry)
    mail_providers: tuple[str, ...]
    prefixes: tuple[str, ...] = ()
    middle_names: bool = False


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _letters(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("ABDEFGHJLNPQRSTUWXYZ") for _ in range(n))


def _p_five(rng, prefix):
    return prefix + _digits(rng, 5 - len(prefix))


SECTORS_EN = (
    ("Analytics", "Software"),
    ("Logistics", "Logistics"),
    ("Engineering", "Manufacturing"),
    ("Consulting", "Professional services"),
    ("Health", "Healthcare"),
    ("Foods", "Food & beverage"),
    ("Energy", "Energy"),
    ("Capital", "Financial services"),
    ("Media", "Media"),
    ("Retail", "Retail"),
    ("Systems", "IT services"),
    ("Labs", "Biotechnology"),
    ("Motors", "Automotive"),
    ("Construction", "Construction"),
)

# fmt: off
COUNTRIES: tuple[Country, ...] = (
    Country(
        "US", 24, "Sales Americas", "USD", "com",
        ("James", "Mary", "Michael", "Jennifer", "Robert", "Linda", "David", "Emily", "Daniel", "Ashley",
         "Matthew", "Sarah", "Christopher", "Jessica", "Mark", "Amanda", "Joshua", "Megan", "Andrew",
         "Lauren", "Tyler", "Madison", "Brandon", "Rachel", "Kevin", "Nicole", "Marcus", "Olivia", "Ethan",
         "Hannah"),
        ("Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Garcia", "Wilson",
         "Anderson", "Taylor", "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris",
         "Clark", "Lewis", "Walker", "Hall", "Young", "King", "Wright", "Scott", "Green", "Baker", "Nelson",
         "Carter", "O'Connor", "Mitchell", "Sullivan", "Reed"),
        (("New York", "NY", "100"), ("San Francisco", "CA", "941"), ("Chicago", "IL", "606"),
         ("Austin", "TX", "787"), ("Seattle", "WA", "981"), ("Boston", "MA", "021"),
         ("Denver", "CO", "802"), ("Atlanta", "GA", "303"), ("Miami", "FL", "331"),
         ("Portland", "OR", "972")),
        _p_five,
        ("Main", "Oak", "Maple", "Cedar", "Pine", "Washington", "Lake", "Hill", "Park", "Elm", "Sunset",
         "Lincoln"),
        lambda rng, name: f"{rng.randint(10, 9999)} {name} {rng.choice(['St', 'Ave', 'Blvd', 'Dr', 'Rd'])}",
        ("Inc.", "LLC", "Corp.", "Co."),
        SECTORS_EN,
        ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "hotmail.com"),
        ("Dr.",),
        True,
    ),
    Country(
        "DE", 12, "Sales EMEA", "EUR", "de",
        ("Maria", "Markus", "Martin", "Marie", "Anna", "Thomas", "Stefan", "Julia", "Andreas", "Katrin",
         "Jan", "Laura", "Michael", "Sabine", "Tobias", "Lena", "Florian", "Sophie", "Jürgen", "Claudia",
         "Matthias", "Lea", "Sebastian", "Jana", "Felix", "Ute", "Björn", "Hannah", "Jörg", "Miriam"),
        ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
         "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann",
         "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner",
         "Krause", "Meier", "Lehmann", "Schubert", "Scholz"),
        (("Berlin", "Berlin", "10"), ("Hamburg", "Hamburg", "20"), ("München", "Bayern", "80"),
         ("Köln", "Nordrhein-Westfalen", "50"), ("Frankfurt am Main", "Hessen", "60"),
         ("Stuttgart", "Baden-Württemberg", "70"), ("Düsseldorf", "Nordrhein-Westfalen", "40"),
         ("Leipzig", "Sachsen", "04"), ("Nürnberg", "Bayern", "90"), ("Bremen", "Bremen", "28")),
        _p_five,
        ("Haupt", "Bahnhof", "Garten", "Schiller", "Goethe", "Linden", "Berg", "Kirch", "Mühlen", "Wald",
         "Rosen", "Park"),
        lambda rng, name: f"{name}straße {rng.randint(1, 180)}",
        ("GmbH", "AG", "GmbH & Co. KG", "SE"),
        (("Logistik", "Logistics"), ("Maschinenbau", "Manufacturing"), ("Software", "Software"),
         ("Beratung", "Professional services"), ("Medizintechnik", "Healthcare"), ("Energie", "Energy"),
         ("Bau", "Construction"), ("Feinkost", "Food & beverage"), ("Automobil", "Automotive"),
         ("Versicherung", "Financial services"), ("Handel", "Retail"), ("Systemhaus", "IT services")),
        ("gmx.de", "web.de", "t-online.de", "gmail.com", "posteo.de"),
        ("Dr.", "Prof. Dr."),
    ),
    Country(
        "GB", 10, "Sales EMEA", "GBP", "co.uk",
        ("Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Emily", "Charlie", "Sophie",
         "Thomas", "Grace", "William", "Lily", "James", "Freya", "Alfie", "Ella", "Henry", "Poppy", "Mark",
         "Charlotte", "Edward", "Alice", "Samuel", "Florence"),
        ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
         "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson",
         "Clarke", "Hughes", "Edwards", "Turner", "Cooper", "Harris", "Ward", "Morris", "Marsh"),
        (("London", "Greater London", "SW1"), ("Manchester", "Greater Manchester", "M1"),
         ("Birmingham", "West Midlands", "B2"), ("Leeds", "West Yorkshire", "LS1"),
         ("Bristol", "Bristol", "BS1"), ("Edinburgh", "Scotland", "EH1"), ("Glasgow", "Scotland", "G1"),
         ("Cambridge", "Cambridgeshire", "CB2"), ("Oxford", "Oxfordshire", "OX1")),
        lambda rng, prefix: f"{prefix} {rng.randint(1, 9)}{_letters(rng, 2)}",
        ("High", "Station", "Church", "Victoria", "Mill", "King", "Queen", "Park", "Market", "London"),
        lambda rng, name: f"{rng.randint(1, 250)} {name} {rng.choice(['Street', 'Road', 'Lane'])}",
        ("Ltd", "PLC", "LLP"),
        SECTORS_EN,
        ("gmail.com", "outlook.com", "btinternet.com", "yahoo.co.uk", "hotmail.co.uk"),
        ("Dr",),
        True,
    ),
    Country(
        "FR", 8, "Sales EMEA", "EUR", "fr",
        ("Marie", "Jean", "Camille", "Pierre", "Léa", "Nicolas", "Chloé", "Julien", "Manon", "Thomas",
         "Inès", "Antoine", "Sarah", "Mathieu", "Céline", "Hugo", "Amélie", "François", "Élodie", "Louis",
         "Margaux", "Marc", "Hélène", "Théo"),
        ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
         "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent",
         "Fournier", "Morel", "Girard", "André", "Mercier", "Blanc", "Faure", "Marchand"),
        (("Paris", "Île-de-France", "75"), ("Lyon", "Auvergne-Rhône-Alpes", "69"),
         ("Marseille", "Provence-Alpes-Côte d'Azur", "13"), ("Toulouse", "Occitanie", "31"),
         ("Nantes", "Pays de la Loire", "44"), ("Bordeaux", "Nouvelle-Aquitaine", "33"),
         ("Lille", "Hauts-de-France", "59"), ("Strasbourg", "Grand Est", "67")),
        _p_five,
        ("de la République", "Victor Hugo", "du Général de Gaulle", "de la Paix", "Pasteur", "Jean Jaurès",
         "des Lilas", "du Moulin", "Voltaire"),
        lambda rng, name: f"{rng.randint(1, 120)} {rng.choice(['rue', 'avenue', 'boulevard'])} {name}",
        ("SAS", "SA", "SARL"),
        (("Conseil", "Professional services"), ("Logistique", "Logistics"), ("Informatique", "IT services"),
         ("Industries", "Manufacturing"), ("Santé", "Healthcare"), ("Énergie", "Energy"),
         ("Distribution", "Retail"), ("Finance", "Financial services"), ("Médias", "Media"),
         ("Gastronomie", "Food & beverage")),
        ("orange.fr", "free.fr", "gmail.com", "laposte.net", "sfr.fr"),
    ),
    Country(
        "ES", 6, "Sales EMEA", "EUR", "es",
        ("María", "José", "Lucía", "Antonio", "Carmen", "Javier", "Laura", "Manuel", "Marta", "David",
         "Elena", "Pablo", "Sara", "Alejandro", "Paula", "Sergio", "Cristina", "Álvaro", "Marcos", "Nuria"),
        ("García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez", "Gómez",
         "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz", "Álvarez", "Romero",
         "Navarro", "Torres"),
        (("Madrid", "Comunidad de Madrid", "28"), ("Barcelona", "Cataluña", "08"),
         ("Valencia", "Comunidad Valenciana", "46"), ("Sevilla", "Andalucía", "41"),
         ("Bilbao", "País Vasco", "48"), ("Málaga", "Andalucía", "29"), ("Zaragoza", "Aragón", "50")),
        _p_five,
        ("Mayor", "del Sol", "de Alcalá", "Gran Vía", "de la Constitución", "Real", "San Miguel"),
        lambda rng, name: f"Calle {name}, {rng.randint(1, 150)}",
        ("S.L.", "S.A."),
        (("Servicios", "Professional services"), ("Logística", "Logistics"), ("Tecnología", "IT services"),
         ("Construcciones", "Construction"), ("Alimentación", "Food & beverage"), ("Energía", "Energy"),
         ("Salud", "Healthcare"), ("Inversiones", "Financial services")),
        ("gmail.com", "hotmail.es", "yahoo.es", "telefonica.net"),
    ),
    Country(
        "IT", 6, "Sales EMEA", "EUR", "it",
        ("Marco", "Giulia", "Luca", "Francesca", "Alessandro", "Chiara", "Matteo", "Sara", "Andrea",
         "Martina", "Giuseppe", "Valentina", "Davide", "Elena", "Stefano", "Federica", "Lorenzo", "Alessia",
         "Marta", "Paolo"),
        ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino",
         "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo", "Lombardi",
         "Moretti", "D'Angelo"),
        (("Milano", "Lombardia", "201"), ("Roma", "Lazio", "001"), ("Torino", "Piemonte", "101"),
         ("Bologna", "Emilia-Romagna", "401"), ("Firenze", "Toscana", "501"), ("Napoli", "Campania", "801"),
         ("Venezia", "Veneto", "301")),
        _p_five,
        ("Roma", "Garibaldi", "Mazzini", "Dante", "Cavour", "Verdi", "dei Mille", "XX Settembre"),
        lambda rng, name: f"Via {name}, {rng.randint(1, 200)}",
        ("S.r.l.", "S.p.A."),
        (("Meccanica", "Manufacturing"), ("Consulenze", "Professional services"),
         ("Trasporti", "Logistics"), ("Informatica", "IT services"), ("Alimentari", "Food & beverage"),
         ("Moda", "Retail"), ("Energia", "Energy"), ("Costruzioni", "Construction")),
        ("gmail.com", "libero.it", "virgilio.it", "alice.it"),
        ("Dott.", "Ing."),
    ),
    Country(
        "NL", 5, "Sales EMEA", "EUR", "nl",
        ("Daan", "Emma", "Sem", "Julia", "Lucas", "Sophie", "Milan", "Tess", "Thijs", "Anna", "Jesse",
         "Sanne", "Bram", "Lotte", "Ruben", "Fleur", "Maarten", "Marieke"),
        ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser", "Smit",
         "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen"),
        (("Amsterdam", "Noord-Holland", "10"), ("Rotterdam", "Zuid-Holland", "30"),
         ("Utrecht", "Utrecht", "35"), ("Den Haag", "Zuid-Holland", "25"),
         ("Eindhoven", "Noord-Brabant", "56"), ("Groningen", "Groningen", "97")),
        lambda rng, prefix: f"{prefix}{_digits(rng, 2)} {_letters(rng, 2)}",
        ("Kerk", "Dorp", "Molen", "Prinsen", "Heren", "Keizer", "Linden", "Beuk"),
        lambda rng, name: f"{name}straat {rng.randint(1, 220)}",
        ("B.V.", "N.V."),
        (("Techniek", "Manufacturing"), ("Logistiek", "Logistics"), ("Advies", "Professional services"),
         ("Automatisering", "IT services"), ("Zorg", "Healthcare"), ("Bouw", "Construction"),
         ("Energie", "Energy")),
        ("gmail.com", "ziggo.nl", "kpnmail.nl", "hotmail.nl"),
    ),
    Country(
        "SE", 4, "Sales EMEA", "SEK", "se",
        ("Erik", "Anna", "Lars", "Maria", "Karl", "Eva", "Johan", "Karin", "Anders", "Sara", "Magnus",
         "Emma", "Per", "Linnea", "Oskar", "Elin", "Mikael", "Ingrid", "Søren", "Astrid"),
        ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson",
         "Svensson", "Gustafsson", "Pettersson", "Lindqvist", "Lindberg", "Jonsson", "Berg", "Åberg",
         "Öberg", "Ström"),
        (("Stockholm", "Stockholms län", "11"), ("Göteborg", "Västra Götaland", "41"),
         ("Malmö", "Skåne", "21"), ("Uppsala", "Uppsala län", "75"), ("Linköping", "Östergötland", "58")),
        lambda rng, prefix: f"{prefix}{_digits(rng, 1)} {_digits(rng, 2)}",
        ("Drottning", "Kungs", "Stor", "Skol", "Kyrko", "Strand", "Sveavägen"),
        lambda rng, name: f"{name}gatan {rng.randint(1, 90)}",
        ("AB",),
        (("Bygg", "Construction"), ("Data", "IT services"), ("Logistik", "Logistics"), ("Energi", "Energy"),
         ("Konsult", "Professional services"), ("Verkstad", "Manufacturing"), ("Vård", "Healthcare")),
        ("gmail.com", "telia.com", "hotmail.se", "outlook.com"),
    ),
    Country(
        "PL", 4, "Sales EMEA", "PLN", "pl",
        ("Anna", "Piotr", "Katarzyna", "Krzysztof", "Małgorzata", "Tomasz", "Agnieszka", "Paweł",
         "Magdalena", "Michał", "Joanna", "Marcin", "Monika", "Łukasz", "Ewa", "Jakub", "Marta", "Marek"),
        ("Kowalski", "Nowak", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski", "Zieliński",
         "Szymański", "Woźniak", "Dąbrowski", "Kozłowski", "Jankowski", "Mazur", "Krawczyk", "Grabowski"),
        (("Warszawa", "mazowieckie", "00"), ("Kraków", "małopolskie", "30"),
         ("Wrocław", "dolnośląskie", "50"), ("Gdańsk", "pomorskie", "80"),
         ("Poznań", "wielkopolskie", "60"), ("Łódź", "łódzkie", "90")),
        lambda rng, prefix: f"{prefix}-{_digits(rng, 3)}",
        ("Marszałkowska", "Długa", "Mickiewicza", "Słowackiego", "Kościuszki", "Piłsudskiego", "Polna"),
        lambda rng, name: f"ul. {name} {rng.randint(1, 120)}",
        ("Sp. z o.o.", "S.A."),
        (("Systemy", "IT services"), ("Logistyka", "Logistics"), ("Budownictwo", "Construction"),
         ("Doradztwo", "Professional services"), ("Energetyka", "Energy"), ("Produkcja", "Manufacturing")),
        ("gmail.com", "wp.pl", "onet.pl", "interia.pl", "o2.pl"),
        ("dr",),
    ),
    Country(
        "JP", 5, "Sales EMEA", "JPY", "co.jp",
        ("Hiroshi", "Yuki", "Takashi", "Aiko", "Kenji", "Sakura", "Daisuke", "Yui", "Haruto", "Mei", "Sota",
         "Hina", "Takumi", "Naoko", "Ryo", "Emi"),
        ("Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura", "Kobayashi",
         "Kato", "Yoshida", "Yamada", "Sasaki", "Matsumoto", "Inoue", "Kimura"),
        (("Tokyo", "Tokyo", "100"), ("Osaka", "Osaka", "530"), ("Yokohama", "Kanagawa", "220"),
         ("Nagoya", "Aichi", "450"), ("Fukuoka", "Fukuoka", "810"), ("Sapporo", "Hokkaido", "060")),
        lambda rng, prefix: f"{prefix}-{_digits(rng, 4)}",
        ("Chiyoda", "Minato", "Shibuya", "Chuo", "Nakano", "Sakae", "Umeda"),
        lambda rng, name: f"{rng.randint(1, 9)}-{rng.randint(1, 30)}-{rng.randint(1, 20)} {name}",
        ("K.K.", "Co., Ltd."),
        (("Shoji", "Retail"), ("Denki", "Manufacturing"), ("Soft", "Software"), ("Butsuryu", "Logistics"),
         ("Kensetsu", "Construction"), ("Seiyaku", "Healthcare"), ("Foods", "Food & beverage")),
        ("gmail.com", "yahoo.co.jp", "docomo.ne.jp", "outlook.jp"),
    ),
    Country(
        "BR", 6, "Sales Americas", "BRL", "com.br",
        ("Ana", "João", "Maria", "Pedro", "Juliana", "Lucas", "Fernanda", "Gabriel", "Camila", "Rafael",
         "Beatriz", "Mateus", "Larissa", "Felipe", "Mariana", "Thiago", "Letícia", "Marcelo"),
        ("Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima",
         "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Araújo", "Barbosa"),
        (("São Paulo", "SP", "01"), ("Rio de Janeiro", "RJ", "20"), ("Belo Horizonte", "MG", "30"),
         ("Curitiba", "PR", "80"), ("Porto Alegre", "RS", "90"), ("Recife", "PE", "50"),
         ("Salvador", "BA", "40")),
        lambda rng, prefix: f"{prefix}{_digits(rng, 3)}-{_digits(rng, 3)}",
        ("das Flores", "Augusta", "XV de Novembro", "Sete de Setembro", "Paulista", "da Consolação",
         "Oscar Freire"),
        lambda rng, name: f"Rua {name}, {rng.randint(10, 2500)}",
        ("Ltda.", "S.A."),
        (("Tecnologia", "IT services"), ("Logística", "Logistics"), ("Alimentos", "Food & beverage"),
         ("Construtora", "Construction"), ("Consultoria", "Professional services"), ("Saúde", "Healthcare"),
         ("Energia", "Energy"), ("Comércio", "Retail")),
        ("gmail.com", "hotmail.com", "uol.com.br", "bol.com.br", "yahoo.com.br"),
        (),
        True,
    ),
    Country(
        "IN", 10, "Sales EMEA", "INR", "in",
        ("Priya", "Rahul", "Ananya", "Arjun", "Kavya", "Rohan", "Sneha", "Vikram", "Pooja", "Aditya",
         "Neha", "Karan", "Divya", "Amit", "Meera", "Sanjay", "Lakshmi", "Manish"),
        ("Sharma", "Patel", "Singh", "Kumar", "Gupta", "Reddy", "Iyer", "Nair", "Mehta", "Joshi", "Rao",
         "Desai", "Chopra", "Banerjee", "Malhotra", "Verma", "Pillai", "Agarwal"),
        (("Mumbai", "Maharashtra", "400"), ("Bengaluru", "Karnataka", "560"), ("New Delhi", "Delhi", "110"),
         ("Chennai", "Tamil Nadu", "600"), ("Hyderabad", "Telangana", "500"),
         ("Pune", "Maharashtra", "411"), ("Kolkata", "West Bengal", "700")),
        lambda rng, prefix: f"{prefix}{_digits(rng, 3)}",
        ("MG", "Nehru", "Gandhi", "Station", "Church", "Residency", "Brigade", "Park"),
        lambda rng, name: f"{rng.randint(1, 400)}, {name} Road",
        ("Pvt. Ltd.", "Ltd."),
        (("Infotech", "IT services"), ("Pharma", "Healthcare"), ("Logistics", "Logistics"),
         ("Textiles", "Manufacturing"), ("Consultancy", "Professional services"),
         ("Foods", "Food & beverage"), ("Power", "Energy"), ("Finserv", "Financial services")),
        ("gmail.com", "yahoo.co.in", "rediffmail.com", "outlook.com"),
        ("Dr.",),
    ),
)
# fmt: on
COUNTRY_BY_CODE = {c.code: c for c in COUNTRIES}

BRAND_STARTS = (
    "Nord",
    "Alpen",
    "Blue",
    "Stern",
    "Nova",
    "Terra",
    "Astra",
    "Vita",
    "Helio",
    "Opti",
    "Quant",
    "Sol",
    "Luma",
    "Inno",
    "Vertex",
    "Apex",
    "Zenit",
    "Aqua",
    "Prime",
    "Silva",
)
BRAND_ENDS = (
    "werk",
    "tec",
    "data",
    "logic",
    "ware",
    "line",
    "port",
    "field",
    "link",
    "sys",
    "nova",
    "gate",
    "core",
    "wave",
    "point",
    "mind",
)
JOB_TITLES = (
    (
        30,
        (
            "Sales Manager",
            "Account Executive",
            "Marketing Manager",
            "Project Manager",
            "Product Manager",
            "Software Engineer",
            "Buyer",
            "Office Manager",
            "Operations Manager",
            "HR Manager",
            "Customer Service Lead",
            "Controller",
            "Business Analyst",
            "Consultant",
        ),
    ),
    (
        12,
        (
            "Head of Sales",
            "Head of Marketing",
            "Head of IT",
            "Head of Procurement",
            "Head of Operations",
            "Director of Engineering",
            "Finance Director",
        ),
    ),
    (5, ("CEO", "CFO", "CTO", "COO", "Managing Director", "Founder", "VP Sales")),
    (8, ("Assistant", "Intern", "Trainee", "Working Student", "Coordinator")),
)
SENIOR = {"CEO", "CFO", "CTO", "COO", "Managing Director", "Founder", "VP Sales"}
STAGES = (
    ("subscriber", 14),
    ("lead", 30),
    ("mql", 12),
    ("sql", 8),
    ("opportunity", 7),
    ("customer", 20),
    ("evangelist", 3),
    ("churned", 5),
    ("other", 1),
)
SOURCES = (
    ("Website form", 25),
    ("Referral", 12),
    ("Trade show", 9),
    ("Cold call", 6),
    ("Partner", 7),
    ("Newsletter sign-up", 12),
    ("LinkedIn", 10),
    ("Google Ads", 9),
    ("Webinar", 6),
    ("Import", 4),
)
CONTACT_TAGS = (
    ("newsletter", 0.25),
    ("vip", 0.03),
    ("partner", 0.04),
    ("trade-show-2025", 0.07),
    ("webinar-attendee", 0.06),
    ("beta-tester", 0.015),
)
COMPANY_TAGS = (("partner", 0.05), ("key-account", 0.03), ("reseller", 0.02), ("trade-show-2025", 0.04))
SIZES = (
    ("1-10", 30, 0.2, 2),
    ("11-50", 30, 1, 10),
    ("51-200", 20, 5, 40),
    ("201-1000", 12, 20, 250),
    ("1001-5000", 6, 150, 1500),
    ("5001+", 2, 1000, 20000),
)  # (size, weight, revenue in millions)
TO_USD = {"USD": 1, "EUR": 0.92, "GBP": 0.79, "SEK": 10.5, "PLN": 4.0, "JPY": 150, "BRL": 5.0, "INR": 83}


def ascii_fold(text: str) -> str:
    """Letters for e-mail addresses: "Jürgen" -> "juergen", "O'Connor" -> "oconnor", accents dropped."""
    text = text.lower().translate(
        str.maketrans(
            {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ø": "oe", "å": "aa", "æ": "ae", "ł": "l", "'": ""}
        )
    )
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if ch.isascii() and (ch.isalnum() or ch in " -."))


def _slug(text: str, sep: str = "") -> str:
    return sep.join(ascii_fold(text).replace("-", " ").replace(".", " ").split())


# ---------------------------------------------------------------------------------------------------------
# Phone numbers that phonenumbers accepts as valid for the country


class PhoneBook:
    """Per country and kind, a few dozen "stems" (all but the last four digits) checked to give valid
    numbers with any ending; a number is then a stem plus four random digits, with no per-row check."""

    STEMS = 24
    PROBES = 12

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.stems: dict[tuple[str, int], list[tuple[int, str]]] = {}

    def _stems(self, region: str, kind: int) -> list[tuple[int, str]]:
        key = (region, kind)
        if key in self.stems:
            return self.stems[key]
        rng = self.rng
        example = phonenumbers.example_number_for_type(region, kind)
        country_code = example.country_code
        national = phonenumbers.national_significant_number(example)
        keep = 0 if region == "US" else min(2, len(national) - 5)
        stems: list[tuple[int, str]] = []
        attempts = 0
        while len(stems) < self.STEMS and attempts < 5000:
            attempts += 1
            stem = national[:keep] + _digits(rng, len(national) - 4 - keep)
            if all(self._valid(country_code, stem + _digits(rng, 4), region) for _ in range(self.PROBES)):
                stems.append((country_code, stem))
        if not stems:  # the example itself, varied only where it stays valid
            stems.append((country_code, national[:-4]))
        self.stems[key] = stems
        return stems

    @staticmethod
    def _valid(country_code: int, national: str, region: str) -> bool:
        number = phonenumbers.PhoneNumber(country_code=country_code, national_number=int(national))
        return phonenumbers.is_valid_number_for_region(number, region)

    def number(self, region: str, kind: int) -> tuple[str, str]:
        """(E.164, the number as a person might type it)."""
        rng = self.rng
        country_code, stem = rng.choice(self._stems(region, kind))
        national = stem + _digits(rng, 4)
        e164 = f"+{country_code}{national}"
        style = rng.random()
        if style < 0.5:
            typed = f"+{country_code} {national[:3]} {national[3:]}"
        elif style < 0.8:
            typed = f"+{country_code} {national[:-4]} {national[-4:]}"
        else:
            typed = e164
        return e164, typed


# ---------------------------------------------------------------------------------------------------------
# Generators


def _weighted(rng: random.Random, pairs) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


@dataclass
class DemoStaff:
    """The demo users by team, for spreading ownership."""

    by_team: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # team -> [(user id, weight)]
    loner: int | None = None  # the member in no team
    customer_success: str = "Customer Success"

    def owner_for(self, rng: random.Random, country: Country, stage: str) -> int | None:
        if self.loner is not None and rng.random() < 0.004:
            return self.loner
        team = country.region
        if stage in {"customer", "evangelist", "churned"} and rng.random() < 0.6:
            team = self.customer_success
        people = self.by_team.get(team) or [p for ps in self.by_team.values() for p in ps]
        if not people:
            return None
        return rng.choices([p[0] for p in people], weights=[p[1] for p in people])[0]


@dataclass(slots=True)
class CompanyRef:
    id: int
    domain: str
    country: str
    size: str


class DemoGenerator:
    """Reproducible rows for `companies_bulk_create` and `contacts_bulk_create`."""

    def __init__(self, seed: int, staff: DemoStaff) -> None:
        self.company_rng = random.Random(f"{seed}:companies")
        self.contact_rng = random.Random(f"{seed}:contacts")
        self.phones = PhoneBook(random.Random(f"{seed}:phones"))
        self.staff = staff
        self.country_weights = [c.weight for c in COUNTRIES]
        self.domains: dict[str, int] = {}

    def _country(self, rng: random.Random) -> Country:
        return rng.choices(COUNTRIES, weights=self.country_weights)[0]

    def _address(self, rng: random.Random, country: Country, kind: str) -> dict:
        city, region, postal_prefix = rng.choice(country.cities)
        return {
            "kind": kind,
            "street": country.street(rng, rng.choice(country.street_names)),
            "city": city,
            "region": region,
            "postal_code": country.postal(rng, postal_prefix),
            "country": country.code,
        }

    def _company_name(self, rng: random.Random, country: Country) -> tuple[str, str, str]:
        """(full name, the part the domain is made of, industry)."""
        sector, industry = rng.choice(country.sectors)
        style = rng.random()
        if style < 0.45:
            core = f"{rng.choice(country.last_names)} {sector}"
        elif style < 0.8:
            core = rng.choice(BRAND_STARTS) + rng.choice(BRAND_ENDS)
            core = f"{core} {sector}" if rng.random() < 0.4 else core
        elif style < 0.92:
            core = f"{rng.choice(country.cities)[0]} {sector}"
        else:
            core = f"{rng.choice(country.last_names)} & {rng.choice(country.last_names)}"
        return f"{core} {rng.choice(country.legal)}", core, industry

    def companies(
        self, count: int, *, groups: bool = False, holdings: list[CompanyRef] = ()
    ) -> Iterator[dict]:
        """Company rows (`groups`: the holding companies others belong to); `self.company_refs` receives,
        in the same order, what the contacts need."""
        rng = self.company_rng
        self.company_refs: list[CompanyRef] = []
        holdings_by_country: dict[str, list[CompanyRef]] = {}
        for ref in holdings:
            holdings_by_country.setdefault(ref.country, []).append(ref)
        for _ in range(count):
            country = self._country(rng)
            name, core, industry = self._company_name(rng, country)
            if groups:
                name = f"{core} Group {rng.choice(country.legal)}" if rng.random() < 0.7 else name
            base = _slug(core, "-")
            seen = self.domains.get(base, 0)
            self.domains[base] = seen + 1
            domain = f"{base}{seen + 1 if seen else ''}.{country.tld}"
            size, _, low, high = rng.choices(SIZES, weights=[s[1] for s in SIZES])[0]
            if groups:
                size, _, low, high = SIZES[-1]
            revenue = None
            if rng.random() < 0.8:
                millions = rng.uniform(low, high) * TO_USD[country.currency]
                revenue = Decimal(int(millions * 1_000_000) // 1000 * 1000)
            phone, _ = self.phones.number(country.code, PhoneNumberType.FIXED_LINE)
            addresses = [{**self._address(rng, country, "work"), "is_primary": True}]
            if rng.random() < 0.15:
                addresses.append(self._address(rng, country, "billing"))
            row = {
                "name": name,
                "domain": domain,
                "industry": industry,
                "size": size,
                "annual_revenue": revenue,
                "currency": country.currency,
                "phone": phone,
                "website": f"https://www.{domain}",
                "description": f"{industry} company based in {addresses[0]['city']}.",
                "addresses": addresses,
                "tags": [t for t, p in COMPANY_TAGS if rng.random() < p],
                "owner_id": self.staff.owner_for(rng, country, "lead"),
            }
            parents = holdings_by_country.get(country.code)
            if parents and rng.random() < 0.08:
                row["parent_id"] = rng.choice(parents).id
            self.company_refs.append(CompanyRef(0, domain, country.code, size))
            yield row

    def contacts(self, count: int, companies: list[CompanyRef]) -> Iterator[dict]:
        rng = self.contact_rng
        by_country: dict[str, list[CompanyRef]] = {}
        for ref in companies:
            by_country.setdefault(ref.country, []).append(ref)
        today = REFERENCE_DATE
        titles = [t for w, ts in JOB_TITLES for t in ts]
        title_weights = [w / len(ts) for w, ts in JOB_TITLES for _ in ts]
        for _ in range(count):
            company = None
            if companies and rng.random() < 0.75:
                country = self._country(rng)
                pool = by_country.get(country.code) or companies
                company = pool[int(len(pool) * rng.random() ** 1.6)]
                country = COUNTRY_BY_CODE[company.country] if rng.random() < 0.9 else country
            else:
                country = self._country(rng)
            first = rng.choice(country.first_names)
            last = rng.choice(country.last_names)
            first_ascii, last_ascii = _slug(first), _slug(last)
            row: dict = {"first_name": first, "last_name": last}
            if country.middle_names and rng.random() < 0.12:
                row["middle_name"] = rng.choice(country.first_names)
            if country.prefixes and rng.random() < 0.04:
                row["prefix"] = rng.choice(country.prefixes)
            emails = []
            if company is not None:
                domain = company.domain
                style = rng.random()
                if style < 0.6:
                    local = f"{first_ascii}.{last_ascii}"
                elif style < 0.8:
                    local = f"{first_ascii[0]}{last_ascii}"
                elif style < 0.9:
                    local = f"{first_ascii}{last_ascii[0]}"
                else:
                    local = first_ascii
                emails.append({"email": f"{local}@{domain}", "label": "work"})
                title = rng.choices(titles, weights=title_weights)[0]
                row["job_title"] = title
                row["company_id"] = company.id
            if company is None or rng.random() < 0.1:
                provider = rng.choice(country.mail_providers)
                local = f"{first_ascii}.{last_ascii}{rng.randint(1, 9999)}"
                emails.append({"email": f"{local}@{provider}", "label": "personal"})
            if rng.random() < 0.03:  # now and then someone types an address in capitals
                emails[0]["email"] = emails[0]["email"].capitalize()
            row["emails"] = emails
            phones = []
            if rng.random() < 0.85:
                _, typed = self.phones.number(country.code, PhoneNumberType.MOBILE)
                phones.append({"number": typed, "label": "mobile"})
            if company is not None and rng.random() < 0.3:
                _, typed = self.phones.number(country.code, PhoneNumberType.FIXED_LINE)
                phones.append({"number": typed, "label": "work"})
            if phones:
                row["phones"] = phones
            if rng.random() < 0.4:
                row["birthday"] = today - dt.timedelta(days=rng.randint(22 * 365, 66 * 365))
            stage = _weighted(rng, STAGES)
            row["lifecycle_stage"] = stage
            row["source"] = _weighted(rng, SOURCES)
            tags = [t for t, p in CONTACT_TAGS if rng.random() < p]
            if row.get("job_title") in SENIOR and rng.random() < 0.7:
                tags.append("decision-maker")
            if tags:
                row["tags"] = tags
            if rng.random() < 0.55:
                row["addresses"] = [
                    self._address(rng, country, "work" if company and rng.random() < 0.5 else "home")
                ]
            row["owner_id"] = self.staff.owner_for(rng, country, stage)
            if rng.random() < 0.03:
                row["team_id"] = 0  # private to the owner
            yield row


# ---------------------------------------------------------------------------------------------------------
# The seed


@dataclass
class SeedResult:
    created: bool
    users: int = 0
    companies: int = 0
    contacts: int = 0
    seconds: float = 0.0
    message: str = ""


def demo_data_present() -> bool:
    return Contact.objects.filter(owner__username__in=DEMO_USERNAMES).exists()


def demo_staff_ensure(password: str | None) -> tuple[DemoStaff, int]:
    """The demo teams and users (created through the user services once; reused afterwards)."""
    created = 0
    teams = {name: team_get_or_create(actor=None, name=name) for name in TEAMS}
    existing = {u.username: u for u in User.objects.filter(username__in=DEMO_USERNAMES)}
    staff = DemoStaff()
    for username, first, last, role, team in DEMO_USERS:
        user = existing.get(username)
        if user is None:
            data = {
                "username": username,
                "first_name": first,
                "last_name": last,
                "role": role,
                "email": f"{username}@crm-demo.example.com",
                "teams": [teams[team].pk] if team else [],
            }
            if password:
                data["password"] = password
            user = user_create(actor=None, data=data)
            created += 1
        if team is None:
            staff.loner = user.pk
        else:
            staff.by_team.setdefault(team, []).append((user.pk, 1 if role == "manager" else 3))
    return staff, created


def seed(
    *,
    scale: int = DEFAULT_SCALE,
    seed: int = DEFAULT_SEED,
    force: bool = False,
    password: str | None = DEMO_PASSWORD,
    batch_size: int = 5000,
    workers: int | None = None,
    log: Callable[[str], None] | None = None,
) -> SeedResult:
    """Create the demo users and `scale` contacts with about one company per ten contacts.

    Idempotent: when the demo users already own contacts it does nothing (`force=True` adds `scale` more,
    from a seed derived from how many there are, so they differ). `password=None` leaves the demo users
    without a usable password (benchmarks; a person can set one later). `workers`: processes for the contacts
    (generation and validation in a second one from 20,000 contacts up, see `contacts_bulk_create`)."""
    log = log or (lambda text: print(text, file=sys.stderr, flush=True))
    started = time.perf_counter()
    if demo_data_present() and not force:
        return SeedResult(created=False, message="demo data already present")
    with transaction.atomic():
        staff, users_created = demo_staff_ensure(password)
    existing = Contact.objects.filter(owner__username__in=DEMO_USERNAMES).count() if force else 0
    generator = DemoGenerator(seed if not existing else seed + existing, staff)
    errors: list = []

    def check(what: str) -> None:  # the generator must only make valid rows; say so loudly if not
        if errors:
            raise RuntimeError(f"demo {what} failed validation: {errors[:5]}")

    company_count = max(1, scale // 10) if scale else 0
    holding_count = company_count // 50
    holding_ids: list[int] = []
    companies_bulk_create(
        actor=None,
        rows=generator.companies(holding_count, groups=True),
        batch_size=batch_size,
        errors=errors,
        ids=holding_ids,
    )
    check("companies")
    holdings = [
        CompanyRef(i, r.domain, r.country, r.size)
        for i, r in zip(holding_ids, generator.company_refs, strict=True)
    ]
    company_ids: list[int] = []
    progress = _Progress(log, "companies", company_count - holding_count)
    companies_bulk_create(
        actor=None,
        rows=generator.companies(company_count - holding_count, holdings=holdings),
        batch_size=batch_size,
        errors=errors,
        ids=company_ids,
        progress=progress,
    )
    check("companies")
    refs = holdings + [
        CompanyRef(i, r.domain, r.country, r.size)
        for i, r in zip(company_ids, generator.company_refs, strict=True)
    ]
    generator.company_refs = []
    progress = _Progress(log, "contacts", scale)
    contacts = contacts_bulk_create(
        actor=None,
        rows=generator.contacts(scale, refs),
        batch_size=batch_size,
        errors=errors,
        progress=progress,
        workers=workers if workers is not None else (2 if scale >= 20_000 else 1),
    )
    check("contacts")
    return SeedResult(
        created=True,
        users=users_created,
        companies=len(refs),
        contacts=contacts,
        seconds=time.perf_counter() - started,
    )


class _Progress:
    """Prints "contacts: 150,000 / 1,000,000 (2,400/s)" every few seconds (two, ten for large runs) and at
    the end."""

    def __init__(self, log: Callable[[str], None], noun: str, total: int) -> None:
        self.log, self.noun, self.total = log, noun, total
        self.started = self.last = time.perf_counter()
        self.interval = 2 if total < 200_000 else 10

    def __call__(self, done: int) -> None:
        now = time.perf_counter()
        if now - self.last >= self.interval or done >= self.total:
            self.last = now
            rate = done / max(now - self.started, 1e-9)
            self.log(f"  {self.noun}: {done:,} / {self.total:,} ({rate:,.0f}/s)")
