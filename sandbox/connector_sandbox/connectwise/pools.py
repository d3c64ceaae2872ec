"""Word pools for realistic-looking generated ConnectWise data (original, made-up values)."""

FIRST = ["Anna", "Ben", "Carla", "David", "Eva", "Frank", "Grace", "Hugo", "Ines", "Jack", "Karin",
         "Liam", "Mona", "Noah", "Olga", "Paul", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera",
         "Wim", "Xena", "Yusuf", "Zoe", "Maarten", "Sofia", "Lucas", "Emma", "Daan", "Julia"]
LAST = ["Jansen", "Smith", "de Vries", "Garcia", "Müller", "Bakker", "Johnson", "Visser", "Brown",
        "Meijer", "Davis", "Peters", "Martin", "Mulder", "Wilson", "Bos", "Moore", "Dekker",
        "Taylor", "Hendriks", "Clark", "Dijkstra", "Lewis", "Smit", "Walker", "Kok", "Young",
        "Vos", "King", "Brouwer", "Wright", "O'Neil"]
ADJ = ["Blue", "North", "Bright", "Silver", "Rapid", "Green", "Summit", "Iron", "Harbor", "Cedar",
       "Golden", "Atlas", "Nova", "Pioneer", "Crystal", "Eagle", "Vertex", "Maple", "Orbit", "Prime"]
NOUN = ["River", "Logistics", "Dental", "Foods", "Legal", "Design", "Freight", "Health", "Systems",
        "Capital", "Bakery", "Motors", "Clinic", "Partners", "Builders", "Media", "Labs", "Textiles",
        "Energy", "Hotels"]
SUFFIX = ["Ltd", "Inc", "LLC", "BV", "GmbH", "Group", "Co", "PLC"]
CITIES = ["Amsterdam", "Utrecht", "Rotterdam", "Denver", "Austin", "Leeds", "Dublin", "Antwerp",
          "Tampa", "Hamburg", "Lyon", "Toronto", "Melbourne", "Boston", "Seattle", "Eindhoven"]
STATES = ["NH", "UT", "ZH", "CO", "TX", "FL", "WA", "MA", "NB", "ON", "VIC", "HH"]
STREETS = ["Main Street", "Market Street", "Keizersgracht", "Oak Avenue", "Station Road",
           "Harbor Way", "Elm Street", "Parklaan", "High Street", "Church Lane"]
TICKET_SUMMARIES = [
    "Printer on 2nd floor not printing", "Outlook keeps asking for password", "New user onboarding",
    "VPN connection drops every hour", "Laptop battery swells", "Request: additional monitor",
    "Server disk space warning", "Backup job failed last night", "Cannot access shared drive",
    "Phishing email reported", "Wi-Fi slow in meeting room", "Replace broken keyboard",
    "License renewal for accounting software", "Firewall firmware update", "Reset MFA for user",
    "Teams calls dropping", "Install updates on reception PC", "Offboard departing employee",
    "Website SSL certificate expiring", "Scanner sends blank pages", "Slow ERP performance",
    "Mailbox almost full", "Set up new conference room display", "Antivirus alert on workstation",
    "Password reset request", "UPS battery test failed", "Move desk phone to new office",
    "Domain renewal reminder", "SharePoint permissions request", "Camera not working in Zoom",
]
NOTE_TEXTS = [
    "Called the user and walked through the steps; issue resolved.",
    "Remote session started, investigating the event logs.",
    "Waiting for the customer to confirm the fix.",
    "Escalated to the network team for further analysis.",
    "Ordered a replacement part, ETA three business days.",
    "Applied the latest patches and rebooted the machine.",
    "Customer reports the problem occurs only in the morning.",
    "Documented the workaround in the knowledge base.",
]
PROJECT_NAMES = ["Microsoft 365 Migration", "Network Refresh", "Office Relocation", "Server Virtualisation",
                 "Backup Modernisation", "Security Awareness Program", "ERP Upgrade", "Wi-Fi Redesign",
                 "Endpoint Rollout", "Cloud Telephony Switch", "Disaster Recovery Test", "Intranet Launch"]
AGREEMENT_NAMES = ["Managed Services - Gold", "Managed Services - Silver", "Block Hours 20h",
                   "Backup as a Service", "Security Monitoring", "Helpdesk Unlimited", "Hardware Warranty",
                   "Microsoft 365 Support"]
OPPORTUNITY_NAMES = ["Firewall upgrade", "Laptop refresh 2025", "Managed backup upsell", "New office network",
                     "Microsoft 365 licences", "Security assessment", "Server replacement", "VoIP rollout"]
ACTIVITY_NAMES = ["Follow-up call", "Quarterly business review", "Send proposal", "Demo meeting",
                  "Site survey", "Contract renewal call", "Check-in email", "Lunch meeting"]
BOARD_NAMES = ["Help Desk", "Network Operations", "Projects", "Alerts", "Onboarding", "Field Services",
               "Procurement", "Escalations", "Security", "Internal IT"]
STATUS_NAMES = ["New", "In Progress", "Waiting Customer", "Scheduled", "Resolved", "Closed",
                "On Hold", "Escalated"]
CONFIG_PREFIXES = ["WS", "SRV", "FW", "SW", "NAS", "LT", "AP", "PRN"]
NAME_POOLS = {
    "/service/priorities": ["Priority 1 - Critical", "Priority 2 - High", "Priority 3 - Normal",
                            "Priority 4 - Low", "Priority 5 - Planning"],
    "/time/workroles": ["Engineer", "Senior Engineer", "Project Manager", "Consultant", "Technician",
                        "Account Manager"],
    "/time/worktypes": ["Remote Support", "Onsite", "Travel", "Admin", "After Hours", "Training"],
    "/finance/currencies": ["US Dollar", "Euro", "British Pound", "Canadian Dollar", "Australian Dollar"],
    "/company/countries": ["United States", "Netherlands", "United Kingdom", "Germany", "Belgium",
                           "Canada", "Australia"],
    "/system/locations": ["Headquarters", "Remote", "Branch Office", "Datacenter"],
    "/system/departments": ["Services", "Sales", "Administration", "Projects"],
    "/company/companies/statuses": ["Active", "Inactive", "Not Approved", "Credit Hold"],
    "/company/companies/types": ["Client", "Prospect", "Vendor", "Partner", "Competitor"],
    "/company/configurations/types": ["Workstation", "Server", "Firewall", "Switch", "Printer", "Laptop"],
    "/company/configurations/statuses": ["Active", "Inactive", "Retired"],
    "/finance/agreements/types": ["Managed Services", "Block Time", "Warranty", "Retainer"],
    "/sales/opportunities/statuses": ["Open", "Won", "Lost", "No Decision"],
    "/sales/activities/types": ["Call", "Email", "Meeting", "Task"],
    "/sales/activities/statuses": ["Open", "Closed"],
    "/schedule/types": ["Service", "Project", "Activity", "Personal"],
    "/schedule/statuses": ["Firm", "Tentative", "Done"],
    "/project/statuses": ["Open", "In Progress", "Closed", "On Hold"],
    "/service/sources": ["Phone", "Email", "Portal", "Walk-in", "Monitoring"],
    "/service/locations": ["On-Site", "Remote", "In-house"],
    "/system/securityroles": ["Admin", "Technician", "Sales", "API Role"],
}
WORDS = ["standard", "quarterly", "primary", "remote", "default", "premium", "internal", "external",
         "monthly", "legacy", "regional", "central", "basic", "advanced", "shared", "priority"]
