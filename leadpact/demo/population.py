"""Who the demo's leads are: small and mid-sized sellers in eight countries, as on Olist.

Names, cities, company-name parts and free-mail domains per country, kept here (not drawn from
Faker) so that the demo world is the same on every machine and needs no development package.
Phone numbers are made valid for their country with ``phonenumbers``.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

import phonenumbers


@dataclass(frozen=True)
class Country:
    code: str  # ISO 3166 alpha-2, also the phone region
    name: str
    weight: float
    language: str
    tld: str
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    cities: tuple[str, ...]
    prefixes: tuple[str, ...]
    suffixes: tuple[str, ...]
    free_mail: tuple[str, ...]


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


COUNTRIES: tuple[Country, ...] = (
    Country(
        "BR",
        "Brazil",
        0.40,
        "pt",
        "com.br",
        _split(
            "Ana, João, Maria, Pedro, Juliana, Lucas, Fernanda, Rafael, Camila, Gabriel, "
            "Beatriz, Thiago, Larissa, Bruno, Mariana, Felipe, Aline, Gustavo, Patrícia, "
            "Rodrigo, Letícia, André, Vanessa, Marcelo, Renata, Diego, Carolina, Vinícius"
        ),
        _split(
            "Silva, Santos, Oliveira, Souza, Rodrigues, Ferreira, Alves, Pereira, Lima, Gomes, "
            "Costa, Ribeiro, Martins, Carvalho, Almeida, Lopes, Soares, Fernandes, Vieira, "
            "Barbosa, Rocha, Dias, Nascimento, Andrade, Moreira, Nunes, Marques, Machado"
        ),
        _split(
            "São Paulo, Rio de Janeiro, Belo Horizonte, Curitiba, Porto Alegre, Campinas, "
            "Salvador, Recife, Florianópolis, Goiânia"
        ),
        _split("Casa, Nova, Bella, Estrela, Ponto, Mundo, Vila, Arte, Lar, Sol, Prime, Viva"),
        _split("Ltda, ME, EIRELI, S.A."),
        _split("gmail.com, hotmail.com, outlook.com, uol.com.br, yahoo.com.br"),
    ),
    Country(
        "US",
        "United States",
        0.18,
        "en",
        "com",
        _split(
            "James, Mary, Michael, Jennifer, David, Linda, Robert, Emily, William, Jessica, "
            "Daniel, Sarah, Matthew, Ashley, Christopher, Megan, Andrew, Lauren, Joshua, "
            "Rachel, Brian, Nicole, Kevin, Olivia"
        ),
        _split(
            "Smith, Johnson, Williams, Brown, Jones, Miller, Davis, Wilson, Anderson, Taylor, "
            "Thomas, Moore, Jackson, Martin, Lee, Thompson, White, Harris, Clark, Lewis, "
            "Walker, Hall, Young, King"
        ),
        _split("Austin, Denver, Chicago, Seattle, Atlanta, Boston, Portland, Miami, Phoenix"),
        _split("Blue Ridge, Summit, Harbor, Maple, Pioneer, Liberty, Evergreen, Redwood, Union"),
        _split("Inc., LLC, Co."),
        _split("gmail.com, yahoo.com, outlook.com, icloud.com"),
    ),
    Country(
        "GB",
        "United Kingdom",
        0.10,
        "en",
        "co.uk",
        _split(
            "Oliver, Amelia, Harry, Isla, George, Ava, Jack, Emily, Charlie, Sophie, Thomas, "
            "Grace, Oscar, Lily, James, Chloe, William, Freya, Henry, Poppy"
        ),
        _split(
            "Smith, Jones, Taylor, Brown, Williams, Wilson, Johnson, Davies, Robinson, Wright, "
            "Thompson, Evans, Walker, White, Roberts, Green, Hall, Wood, Jackson, Clarke"
        ),
        _split("London, Manchester, Leeds, Bristol, Glasgow, Birmingham, Brighton, Cardiff"),
        _split("Thames, Kingsway, Oakwood, Highgate, Albion, Crown, Regent, Meadow"),
        _split("Ltd, Limited, plc"),
        _split("gmail.com, hotmail.co.uk, outlook.com, btinternet.com"),
    ),
    Country(
        "DE",
        "Germany",
        0.08,
        "de",
        "de",
        _split(
            "Lukas, Anna, Leon, Lena, Finn, Laura, Jonas, Julia, Paul, Sarah, Felix, Lea, "
            "Maximilian, Hannah, Tim, Katharina, Jan, Sophie, Niklas, Marie"
        ),
        _split(
            "Müller, Schmidt, Schneider, Fischer, Weber, Meyer, Wagner, Becker, Schulz, "
            "Hoffmann, Koch, Richter, Klein, Wolf, Schröder, Neumann, Schwarz, Braun"
        ),
        _split("Berlin, Hamburg, München, Köln, Frankfurt am Main, Leipzig, Stuttgart"),
        _split("Nord, Rhein, Alpen, Stadt, Elbe, Hansa, Spree, Linden"),
        _split("GmbH, GmbH & Co. KG, AG"),
        _split("gmail.com, web.de, gmx.de, t-online.de"),
    ),
    Country(
        "FR",
        "France",
        0.07,
        "fr",
        "fr",
        _split(
            "Louis, Camille, Hugo, Léa, Jules, Manon, Lucas, Chloé, Nathan, Inès, Arthur, "
            "Sarah, Théo, Julie, Raphaël, Emma, Antoine, Pauline"
        ),
        _split(
            "Martin, Bernard, Dubois, Thomas, Robert, Richard, Petit, Durand, Leroy, Moreau, "
            "Simon, Laurent, Lefèvre, Michel, Garcia, David, Bertrand, Roux"
        ),
        _split("Paris, Lyon, Marseille, Toulouse, Bordeaux, Lille, Nantes, Strasbourg"),
        _split("Maison, Atelier, Belle, Petit, Grand, Lumière, Rive, Soleil"),
        _split("SAS, SARL, SA"),
        _split("gmail.com, orange.fr, free.fr, outlook.fr"),
    ),
    Country(
        "ES",
        "Spain",
        0.06,
        "es",
        "es",
        _split(
            "Alejandro, Lucía, Pablo, Sofía, Daniel, Martina, Javier, María, Sergio, Paula, "
            "Carlos, Carmen, Álvaro, Laura, Miguel, Elena"
        ),
        _split(
            "García, Fernández, González, Rodríguez, López, Martínez, Sánchez, Pérez, Gómez, "
            "Martín, Jiménez, Ruiz, Hernández, Díaz, Moreno, Álvarez"
        ),
        _split("Madrid, Barcelona, Valencia, Sevilla, Bilbao, Málaga, Zaragoza"),
        _split("Casa, Mar, Sol, Nueva, Costa, Luna, Ibérica, Plaza"),
        _split("S.L., S.A."),
        _split("gmail.com, hotmail.es, yahoo.es, outlook.es"),
    ),
    Country(
        "MX",
        "Mexico",
        0.06,
        "es",
        "com.mx",
        _split(
            "José, Guadalupe, Juan, Fernanda, Luis, Valeria, Carlos, Ximena, Jorge, Daniela, "
            "Miguel, Andrea, Ricardo, Regina, Eduardo, Mariana"
        ),
        _split(
            "Hernández, García, Martínez, López, González, Pérez, Rodríguez, Sánchez, Ramírez, "
            "Cruz, Flores, Gómez, Morales, Vázquez, Reyes, Jiménez"
        ),
        _split("Ciudad de México, Guadalajara, Monterrey, Puebla, Querétaro, Mérida, Tijuana"),
        _split("Azteca, Sol, Nueva, Casa, Maya, Pacífico, Jalisco, Luna"),
        _split("S.A. de C.V., S. de R.L."),
        _split("gmail.com, hotmail.com, outlook.com, yahoo.com.mx"),
    ),
    Country(
        "PT",
        "Portugal",
        0.05,
        "pt",
        "pt",
        _split(
            "Francisco, Maria, Afonso, Leonor, Tomás, Beatriz, Duarte, Matilde, Rodrigo, Inês, "
            "Martim, Carolina, Diogo, Mariana"
        ),
        _split(
            "Silva, Santos, Ferreira, Pereira, Oliveira, Costa, Rodrigues, Martins, Jesus, "
            "Sousa, Fernandes, Gonçalves, Gomes, Lopes"
        ),
        _split("Lisboa, Porto, Braga, Coimbra, Faro, Aveiro"),
        _split("Atlântico, Tejo, Douro, Lusa, Nova, Casa, Sol"),
        _split("Lda., S.A., Unipessoal Lda."),
        _split("gmail.com, sapo.pt, hotmail.com, outlook.pt"),
    ),
)

# What a seller of each Olist segment calls its trade, in pt, en, de, fr, es.
LANGUAGES = ("pt", "en", "de", "fr", "es")
_SEGMENT_WORDS: dict[str, str] = {
    "home_decor": "Decor, Home Decor, Wohndesign, Déco, Decoración",
    "health_beauty": "Beleza, Beauty, Kosmetik, Beauté, Belleza",
    "car_accessories": "Auto Peças, Auto Parts, Autoteile, Auto, Autopartes",
    "household_utilities": "Utilidades, Housewares, Haushalt, Maison, Hogar",
    "construction_tools_house_garden": "Ferramentas, Tools, Werkzeug, Outillage, Herramientas",
    "audio_video_electronics": "Eletrônicos, Electronics, Elektronik, Électronique, Electrónica",
    "computers": "Informática, Computers, Computer, Informatique, Informática",
    "pet": "Pet Shop, Pet Supply, Tierbedarf, Animalerie, Mascotas",
    "food_supplement": "Suplementos, Nutrition, Nahrungsergänzung, Nutrition, Suplementos",
    "food_drink": "Alimentos, Foods, Feinkost, Épicerie, Alimentos",
    "sports_leisure": "Esportes, Sports, Sport, Sport, Deportes",
    "bed_bath_table": "Cama Mesa e Banho, Linen, Heimtextil, Linge de Maison, Textil Hogar",
}
SEGMENT_WORDS: dict[str, dict[str, str]] = {
    segment: dict(zip(LANGUAGES, _split(words), strict=True))
    for segment, words in _SEGMENT_WORDS.items()
}
GENERIC_WORDS = dict(
    zip(LANGUAGES, _split("Comércio, Trading, Handel, Commerce, Comercial"), strict=True)
)

TITLES: tuple[tuple[str, float], ...] = (
    ("Owner", 0.22),
    ("Founder & CEO", 0.12),
    ("E-commerce Manager", 0.14),
    ("Head of Sales", 0.08),
    ("Marketing Manager", 0.08),
    ("Operations Director", 0.06),
    ("Purchasing Manager", 0.05),
    ("Managing Director", 0.07),
    ("Co-founder", 0.06),
    ("Online Sales Coordinator", 0.07),
    ("Store Manager", 0.05),
)


def ascii_slug(text: str) -> str:
    """``"Casa Decoração Ltda"`` → ``"casadecoracao"`` (for domains and mailbox names)."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def phone_number(rng: random.Random, region: str) -> str:
    """A mobile number valid for ``region``, in international format (``+55 11 91234-5678``)."""
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    national = str(example.national_number)
    keep = max(2, len(national) - 6)
    for _ in range(50):
        tail = "".join(str(rng.randrange(10)) for _ in range(len(national) - keep))
        candidate = phonenumbers.PhoneNumber(
            country_code=example.country_code, national_number=int(national[:keep] + tail)
        )
        if phonenumbers.is_valid_number(candidate):
            return phonenumbers.format_number(
                candidate, phonenumbers.PhoneNumberFormat.INTERNATIONAL
            )
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
