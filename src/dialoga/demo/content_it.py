"""The demo's Italian conversations, names and formulas (about 60% of the demo)."""

from __future__ import annotations

from dialoga.demo.content import Phrasebook, Script

ORDER_QUESTION = Script(
    topic="order_question",
    modes=("public", "dm", "email"),
    subjects=("Domanda sull'ordine {order}", "Info ordine {order}", "Ordine {order}"),
    threads=(
        (
            "ho cambiato casa e ora sono a {city}: posso ancora modificare l'indirizzo "
            "dell'ordine {order}? È già partito?",
            "l'ordine {order} non è ancora partito. Scrivici il nuovo indirizzo e lo "
            "aggiorniamo prima della spedizione.",
            "Fatto, vi ho mandato tutto. Grazie della velocità!",
            "Ricevuto e aggiornato. Il pacco parte domani mattina da Trieste.",
        ),
        (
            "l'ordine {order} risulta 'in lavorazione' da due giorni. È normale o c'è "
            "qualche problema?",
            "è tutto a posto: tostiamo il martedì e il venerdì e spediamo subito dopo, così "
            "il caffè arriva fresco. Il tuo {blend} parte con la tostatura di domani.",
            "Ah ok, non lo sapevo. Meglio così allora!",
            "Quando parte ti arriva una mail con il codice di tracciamento. Buon caffè!",
        ),
        (
            "il {blend} lo fate anche macinato per moka? Nell'ordine {order} ho scelto i "
            "grani per sbaglio 😅",
            "sì, lo maciniamo anche per moka. Abbiamo già corretto l'ordine {order}, "
            "nessun costo in più.",
            "Perfetto, grazie mille!",
        ),
        (
            "si può pagare con bonifico? Al checkout vedo solo carta e PayPal.",
            "il bonifico lo accettiamo per gli ordini sopra i 60 €: scrivici il numero "
            "d'ordine e ti mandiamo gli estremi.",
        ),
    ),
    weight=3,
)

SHIPPING_DELAY = Script(
    topic="shipping_delay",
    modes=("public", "dm", "email"),
    subjects=("Ordine {order} non ancora arrivato", "Ritardo consegna ordine {order}"),
    threads=(
        (
            "ordine {order} spedito {days} giorni fa e ancora niente. Il tracciamento è "
            "fermo su 'in transito'. Qualcuno mi sa dire qualcosa?",
            "ci dispiace per l'attesa. Abbiamo aperto una segnalazione al corriere per "
            "l'ordine {order}: ti aggiorniamo entro domani.",
            "Ok, aspetto. Però era un regalo di compleanno, un po' mi scoccia.",
            "Il corriere ha ritrovato il pacco nel centro di smistamento di {city}: "
            "consegna prevista domani. Nel pacco c'è anche un omaggio per il disturbo.",
            "Arrivato! Grazie per esservene occupati, non è scontato.",
        ),
        (
            "ma quanto ci mette un pacco da Trieste a {city}? Ordine {order}, sono passati "
            "{days} giorni 🙄",
            "di solito 2-3 giorni lavorativi. Il tuo pacco risulta in giacenza presso il "
            "corriere: ti mandiamo in privato il numero per sbloccarlo.",
            "Chiamato il corriere: dicono che non ero in casa. Non è vero, ma vabbè. "
            "Consegna domani.",
            "Che rabbia, ci dispiace. Se domani non arriva scrivici e lo rispediamo noi.",
        ),
        (
            "ho ordinato il {blend} per il mio bar a {city}, è in ritardo di {days} giorni "
            "e sono quasi senza caffè. Potete fare qualcosa?",
            "capiamo l'urgenza. Ti spediamo oggi stesso 2 kg con corriere espresso, senza "
            "spese; il pacco in ritardo tienilo pure come scorta.",
            "Siete grandi. Grazie davvero.",
        ),
    ),
    weight=3,
)

GRINDER_BROKEN = Script(
    topic="grinder_complaint",
    modes=("public", "dm", "email"),
    subjects=("Macinacaffè {grinder} guasto", "Reclamo: macinacaffè rotto (ordine {order})"),
    threads=(
        (
            "il macinacaffè {grinder} preso da voi due mesi fa si è rotto: gira a vuoto e "
            "non macina più niente. Per 180 euro mi aspettavo di meglio 😡",
            "ci dispiace davvero. È in garanzia: ci mandi numero d'ordine e un breve video "
            "del problema? Lo risolviamo.",
            "Mandato il video. Spero di non dover aspettare settimane.",
            "Visto il video: è la frizione della macina, un difetto di quel lotto. Oggi ti "
            "spediamo un macinacaffè nuovo e il corriere ritira quello rotto, tutto a carico "
            "nostro.",
            "Arrivato quello nuovo, funziona. Bene così.",
        ),
        (
            "secondo macinacaffè {grinder} in un anno che si inceppa. Con i chicchi del "
            "{blend} si blocca ogni volta. È colpa della tostatura o del macinino?",
            "né dell'una né dell'altro, per fortuna: il {blend} è un po' oleoso e quel "
            "modello va pulito ogni 2-3 settimane. Ti mandiamo la guida con le foto.",
            "La pulizia la faccio già, si blocca lo stesso. Voglio la sostituzione.",
            "Hai ragione, allora è un difetto. Procediamo con la sostituzione: ti arriva "
            "una mail con l'etichetta di reso prepagata.",
        ),
        (
            "il macinacaffè {grinder} arrivato ieri ha il contenitore crepato. Ordine {order}. Mi "
            "mandate un ricambio o devo rispedire tutto?",
            "scusaci: non serve rispedire niente, ti mandiamo solo il contenitore nuovo. "
            "Parte domani.",
        ),
    ),
)

BLEND_PRAISE = Script(
    topic="praise",
    modes=("public", "blog"),
    subjects=("Complimenti!",),
    threads=(
        (
            "sto bevendo il {blend} con la moka ed è il caffè più buono che abbia mai fatto "
            "a casa. Cioccolato e nocciola, zero amaro. Complimenti! ☕",
            "grazie, che bello leggerlo! Il {blend} lo tostiamo un po' più chiaro proprio "
            "per la moka. Tu come lo prepari?",
            "Acqua calda in caldaia, fuoco bassissimo, e tolgo la moka appena inizia a "
            "gorgogliare. Trucco della nonna.",
            "La nonna sapeva il fatto suo: è proprio il metodo che consigliamo anche noi.",
        ),
        (
            "al bar sotto l'ufficio a {city} hanno cominciato a usare il vostro {blend}: "
            "ora faccio apposta il giro lungo per passarci. Bravi!",
            "che bella notizia, grazie! Salutaci il barista: siamo fieri di ogni bar che "
            "ci sceglie.",
        ),
        (
            "regalato il cofanetto del {blend} a mio padre, che beve solo caffè 'da bar'. "
            "Verdetto: 'questo è buono'. Detto da lui è un complimento enorme 😂",
            "detto da un intenditore vale doppio! Grazie per averci scelto per il regalo.",
        ),
    ),
    weight=3,
)

WHOLESALE = Script(
    topic="wholesale",
    modes=("email", "dm"),
    subjects=("Fornitura per {business}", "Richiesta listino per bar e ristoranti"),
    threads=(
        (
            "gestisco {business} a {city} e cerchiamo una nuova torrefazione. Usiamo circa "
            "{kg} kg di caffè a settimana. Fate forniture per bar? Con che condizioni?",
            "sì, forniamo una quarantina di bar e pasticcerie. Per {kg} kg a settimana ti "
            "proponiamo il {blend} con prezzi a scaglioni e macinadosatore in comodato "
            "d'uso. Possiamo passare a farti assaggiare?",
            "Volentieri. Giovedì mattina va bene? Mi servirebbe anche un listino scritto.",
            "Giovedì alle 10 ci siamo. Ti mandiamo il listino per bar e ristoranti: i prezzi "
            "includono la formazione dei baristi e la consegna settimanale.",
            "Ricevuto, ci vediamo giovedì.",
        ),
        (
            "per i nostri tre negozi a {city} vorremmo un caffè con il nostro marchio. "
            "Fate private label? Qual è la quantità minima?",
            "sì, facciamo private label da 60 kg al mese in su, con miscela su misura. Ti "
            "mandiamo una proposta con due profili di tostatura da provare.",
        ),
        (
            "ho assaggiato il vostro {blend} a una fiera e vorrei proporlo nel mio "
            "agriturismo vicino a {city}. Vendete confezioni da 1 kg per la ristorazione?",
            "certo: confezioni da 1 kg in grani, con il 15% di sconto sopra i 10 kg al "
            "mese. Vuoi partire con un ordine di prova?",
            "Sì, partiamo con {kg} kg. Come faccio?",
            "Ti abbiamo aperto un account professionale: trovi le istruzioni nella mail di "
            "conferma. Grazie per la fiducia!",
        ),
    ),
)

THANKS = Script(
    topic="thanks",
    modes=("public", "email", "blog"),
    subjects=("Grazie!", "Un grazie al servizio clienti"),
    threads=(
        (
            "volevo ringraziare {colleague} del servizio clienti: pazienza infinita con il "
            "mio ordine sbagliato. Così si lavora 👏",
            "grazie a te, {colleague} è al settimo cielo! Giriamo i complimenti a tutto il team.",
        ),
        (
            "arrivato il pacco con il {blend}, profumo incredibile appena aperto. E grazie "
            "per il biglietto scritto a mano, un pensiero bellissimo.",
            "grazie a te! Li scriviamo uno per uno il venerdì, dopo la tostatura.",
        ),
        (
            "grazie per avermi sostituito il macinino senza fare storie. Cliente a vita.",
            "è il minimo! Grazie a te per la pazienza.",
        ),
    ),
)

BREWING = Script(
    topic="brewing_question",
    modes=("public", "blog"),
    subjects=("Domanda sulla preparazione",),
    threads=(
        (
            "domanda da principiante: che macinatura mi consigliate per il {blend} con la "
            "V60? Il mio viene sempre acquoso.",
            "se viene acquoso macina più fine, tipo sale da cucina, e usa 15 g di caffè "
            "per 250 ml d'acqua a 93 gradi. Poi facci sapere!",
            "Provato: molto meglio, finalmente si sentono le note fruttate.",
            "Grande! Prossimo passo: versa l'acqua in tre tempi invece che tutta insieme.",
        ),
        (
            "ma il caffè va tenuto in frigo? Mia suocera dice di sì, io ho dei dubbi.",
            "meglio di no: in frigo prende umidità e odori. Barattolo chiuso, al buio, a "
            "temperatura ambiente, e consumalo entro un mese dall'apertura.",
            "Lo sapevo! Giro la risposta alla suocera 😄",
        ),
        (
            "domanda per l'estate: per il cold brew va bene anche il {blend} o serve una "
            "tostatura più chiara?",
            "va benissimo: con il {blend} il cold brew viene dolce e cioccolatoso. "
            "Macinatura grossa e 16 ore in frigo.",
        ),
    ),
)

SUBSCRIPTION = Script(
    topic="subscription",
    modes=("email", "dm"),
    subjects=("Abbonamento mensile", "Il mio abbonamento al {blend}"),
    threads=(
        (
            "ho l'abbonamento mensile al {blend}. Ad agosto sono via tutto il mese: posso "
            "saltare la consegna?",
            "certo: nella tua area personale, alla voce Abbonamento, puoi mettere in pausa "
            "le consegne. Se preferisci lo facciamo noi.",
            "Fatelo voi per favore, io mi perdo sempre in quei menu.",
            "Fatto: agosto in pausa, si riparte a settembre con il {blend} come sempre.",
        ),
        (
            "vorrei passare dal {blend} al decaffeinato per qualche mese. Si può cambiare "
            "la miscela dell'abbonamento?",
            "nessun problema: dalla prossima consegna ti arriva il Decaffeinato Notte, "
            "decaffeinato ad acqua, senza solventi.",
        ),
        (
            "mi avete addebitato due volte l'abbonamento di questo mese. Potete controllare?",
            "hai ragione, il nostro sistema di pagamento ha fatto un doppio addebito. Il "
            "rimborso è già partito: lo vedrai sulla carta in 3-5 giorni.",
            "Ok, aspetto il rimborso.",
        ),
    ),
    weight=1,
)

IT = Phrasebook(
    language="it",
    scripts=(
        ORDER_QUESTION,
        SHIPPING_DELAY,
        GRINDER_BROKEN,
        BLEND_PRAISE,
        WHOLESALE,
        THANKS,
        BREWING,
        SUBSCRIPTION,
    ),
    spam=(
        "Guadagna 3.000€ al mese da casa con il trading automatico!!! Posti limitati 👉 "
        "soldi-facili.example/ora",
        "Ciao! Vuoi 10.000 follower veri in 24 ore? Prezzi imbattibili, scrivimi in DM 🚀🚀",
        "Complimenti per la pagina! Posizioniamo il vostro sito al primo posto su Google in "
        "7 giorni, garantito. Rispondete per un preventivo gratuito.",
    ),
    first_names=(
        "Giulia",
        "Marco",
        "Francesca",
        "Alessandro",
        "Chiara",
        "Matteo",
        "Sara",
        "Davide",
        "Elena",
        "Lorenzo",
        "Valentina",
        "Simone",
        "Federica",
        "Andrea",
        "Silvia",
        "Stefano",
        "Martina",
        "Riccardo",
        "Alessia",
        "Paolo",
        "Roberta",
        "Giovanni",
        "Anna",
        "Tommaso",
        "Beatrice",
        "Nicola",
        "Ilaria",
        "Emanuele",
        "Camilla",
        "Pietro",
        "Laura",
        "Fabio",
    ),
    last_names=(
        "Rossi",
        "Bianchi",
        "Esposito",
        "Romano",
        "Colombo",
        "Ricci",
        "Marino",
        "Greco",
        "Bruno",
        "Gallo",
        "Conti",
        "De Luca",
        "Mancini",
        "Costa",
        "Giordano",
        "Rizzo",
        "Lombardi",
        "Moretti",
        "Barbieri",
        "Fontana",
        "Santoro",
        "Mariani",
        "Rinaldi",
        "Caruso",
        "Ferrara",
        "Galli",
        "Martini",
        "Leone",
        "Longo",
        "Gentile",
        "Vitale",
    ),
    cities=(
        "Bologna",
        "Torino",
        "Bari",
        "Verona",
        "Palermo",
        "Firenze",
        "Trento",
        "Lecce",
        "Padova",
        "Napoli",
        "Udine",
        "Perugia",
    ),
    businesses=(
        "il Bar Centrale",
        "la Pasticceria Bonetti",
        "il Caffè del Teatro",
        "l'Osteria da Nino",
        "il Forno Sant'Anna",
        "il Bar Stazione",
    ),
    brand_greetings=("Ciao {first},", "Ciao {first},", "{first},"),
    brand_signoffs=("Un caro saluto,", "A presto,", "Buona giornata,"),
    customer_greetings=("Buongiorno,", "Salve,", "Ciao,", "Gentile Caffè Aurora,"),
    customer_signoffs=("Grazie,", "Cordiali saluti,", "Un saluto,", "Grazie mille,"),
    reply_greetings=("Ciao {agent},", "Gentile {agent},", "Buongiorno {agent},"),
    blog_posts=(
        ("Come regolare la macinatura per l'espresso", "macinatura-espresso"),
        ("Moka o V60: quale scegliere?", "moka-o-v60"),
        ("Il nostro viaggio tra i produttori del Sidamo", "viaggio-sidamo"),
        ("Cold brew fatto in casa in cinque passi", "cold-brew-in-casa"),
    ),
    bios=(
        "Caffè, libri e montagna.",
        "Barista a {city}.",
        "Ciclismo, montagna e moka.",
        "Ricette, caffè e chiacchiere.",
        "Ingegneria e caffè. Opinioni mie.",
        "Caffè e gatti 🐈",
        "Sommelier in pensione.",
        "Fotografia di strada a {city}.",
        "Insegnante di lettere.",
        "Software, corsa, espresso doppio.",
        "Torno subito.",
        "Vivo a {city}.",
    ),
    mail_domains=("gmail.com", "libero.it", "outlook.it", "tiscali.it", "alice.it"),
)
