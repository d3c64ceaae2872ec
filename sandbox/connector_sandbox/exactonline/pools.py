"""Word pools for realistic-looking generated Exact Online data (original, made-up values)."""

FIRST = ["Anouk", "Bram", "Daan", "Eva", "Fleur", "Gijs", "Hanna", "Isa", "Jesse", "Kim", "Lars", "Mila",
         "Noor", "Olivier", "Pieter", "Roos", "Sanne", "Thijs", "Vera", "Wouter", "Yara", "Zeger",
         "Lotte", "Ruben", "Femke", "Koen", "Julia", "Sem", "Tess", "Bas", "Emma", "Luuk"]
LAST = ["de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser",
        "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks",
        "van Leeuwen", "Dekker", "Brouwer", "de Wit", "Dijkstra", "Smits", "de Graaf", "van der Meer",
        "Kok", "Jacobs", "de Haan", "Vermeulen", "van den Heuvel", "Willems", "Schouten"]
COMPANY_A = ["Noord", "Polder", "Tulp", "Dijk", "Molen", "Haven", "Zuider", "Gracht", "Duin", "Kanaal",
             "Klomp", "Horizon", "Delta", "Lage Landen", "Oranje", "Blauw", "Linde", "Eiken", "Rijn", "Maas"]
COMPANY_B = ["Techniek", "Logistiek", "Bouw", "Installaties", "Advies", "Groothandel", "Catering", "Media",
             "Metaal", "Transport", "Zorg", "Software", "Interieur", "Energie", "Drukkerij", "Tuinen",
             "Elektro", "Vastgoed", "Kunststof", "Bakkerij"]
COMPANY_SUFFIX = ["B.V.", "B.V.", "B.V.", "V.O.F.", "N.V.", "Holding B.V."]
CITIES = [("Amsterdam", "1012"), ("Rotterdam", "3011"), ("Utrecht", "3511"), ("Eindhoven", "5611"),
          ("Groningen", "9711"), ("Tilburg", "5038"), ("Almere", "1315"), ("Breda", "4811"),
          ("Nijmegen", "6511"), ("Haarlem", "2011"), ("Arnhem", "6811"), ("Zwolle", "8011"),
          ("Leiden", "2311"), ("Maastricht", "6211"), ("Delft", "2611"), ("Apeldoorn", "7311")]
STREETS = ["Kerkstraat", "Stationsweg", "Dorpsstraat", "Molenweg", "Industrieweg", "Schoolstraat",
           "Hoofdstraat", "Nieuwstraat", "Marktplein", "Havenkade", "Parallelweg", "Spoorlaan"]
COUNTRIES = ["NL", "NL", "NL", "NL", "BE", "BE", "DE", "GB"]
ITEM_NOUNS = ["Bureaustoel", "Laptoptas", "Koffiebonen 1kg", "Printerpapier A4", "USB-C kabel", "Monitor 27\"",
              "Toetsenbord", "Draadloze muis", "Bureaulamp", "Whiteboard", "Headset", "Webcam HD",
              "Vergadertafel", "Archiefkast", "Thermosfles", "Notitieboek", "Stiftenset", "Kantoorplant",
              "Dockingstation", "Beamer", "Service uur", "Installatie", "Onderhoudscontract", "Consultancy uur"]
PROJECTS = ["Implementatie ERP", "Migratie naar cloud", "Verbouwing kantoor", "Website vernieuwing",
            "Jaarafsluiting", "Opleidingstraject", "Netwerk upgrade", "Marketingcampagne voorjaar",
            "Nieuwe huisstijl", "Procesoptimalisatie", "Datawarehouse", "Klanttevredenheidsonderzoek"]
JOB_TITLES = ["Directeur", "Financieel manager", "Inkoper", "Office manager", "Verkoper", "Controller",
              "Projectleider", "Boekhouder", "Operationeel manager", "Medewerker administratie"]
# (code, description, balance type B=balance sheet / W=profit&loss, balance side D/C, GL type)
GL_CHART = [
    ("0100", "Gebouwen", "B", "D", 30), ("0200", "Inventaris", "B", "D", 30), ("1000", "Kas", "B", "D", 10),
    ("1100", "Bank", "B", "D", 12), ("1300", "Debiteuren", "B", "D", 20), ("1600", "Crediteuren", "B", "C", 22),
    ("1500", "Te vorderen BTW", "B", "D", 24), ("1510", "Af te dragen BTW", "B", "C", 24),
    ("3000", "Voorraad", "B", "D", 32), ("0500", "Eigen vermogen", "B", "C", 50),
    ("8000", "Omzet handelsgoederen", "W", "C", 110), ("8100", "Omzet diensten", "W", "C", 110),
    ("8200", "Omzet projecten", "W", "C", 110), ("7000", "Inkoopwaarde omzet", "W", "D", 111),
    ("4000", "Personeelskosten", "W", "D", 121), ("4100", "Huisvestingskosten", "W", "D", 121),
    ("4200", "Autokosten", "W", "D", 121), ("4300", "Kantoorkosten", "W", "D", 121),
    ("4400", "Verkoopkosten", "W", "D", 121), ("4500", "Algemene kosten", "W", "D", 121),
    ("4600", "Afschrijvingen", "W", "D", 121), ("9000", "Rentebaten en -lasten", "W", "C", 122),
]
REVENUE_GL = [10, 11, 12]  # indexes (0-based) into GL_CHART
COST_GL = [13, 17, 19]
AR_GL, AP_GL, BANK_GL = 4, 5, 3
# (code, description, type): Exact journal types 10 cash, 12 bank, 20 sales, 22 purchase, 90 general.
JOURNALS = [("70", "Verkoopboek", 20), ("60", "Inkoopboek", 22), ("20", "Bank", 12), ("10", "Kas", 10),
            ("90", "Memoriaal", 90)]
PAYMENT_CONDITIONS = [("14", "14 dagen"), ("30", "30 dagen"), ("60", "60 dagen"), ("00", "Direct")]
DIVISION_NAMES = ["Sandbox Holding B.V.", "Sandbox Retail B.V.", "Sandbox Services B.V.", "Sandbox Bouw B.V.",
                  "Sandbox Logistiek B.V.", "Sandbox Zorg B.V."]
WORDS = ["standaard", "kwartaal", "primair", "extern", "intern", "maandelijks", "centraal", "regionaal",
         "basis", "premium", "tijdelijk", "vast", "nieuw", "archief", "algemeen", "speciaal"]
