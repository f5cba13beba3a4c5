"""The demo's English conversations, names and formulas: customers abroad (about 40%)."""

from __future__ import annotations

from dialoga.demo.content import Phrasebook, Script

ORDER_QUESTION = Script(
    topic="order_question",
    modes=("public", "dm", "email"),
    subjects=("Question about order {order}", "Order {order}", "Shipping to {city}?"),
    threads=(
        (
            "I've just moved to {city}: can I still change the delivery address on order "
            "{order}? Has it shipped yet?",
            "order {order} hasn't left yet. Send us the new address and we'll update it "
            "before it ships.",
            "Done, sent it over. Thanks for the quick answer!",
            "Got it and updated. Your parcel leaves Trieste tomorrow morning.",
        ),
        (
            "do you ship to {city}? And will I have to pay customs on top?",
            "we ship across Europe and to the UK. For the UK we pay the import duties "
            "ourselves, so the price at checkout is the final one.",
            "Great, ordering the {blend} tonight then.",
            "Lovely! We roast on Tuesdays and Fridays, so it will be at its best when it arrives.",
        ),
        (
            "my order {order} still says 'processing' after two days. Is that normal?",
            "all good: we roast on Tuesdays and Fridays and ship right after, so the coffee "
            "reaches you fresh. Yours goes out with tomorrow's roast.",
            "Ah, makes sense. Fresh is better!",
        ),
    ),
    weight=3,
)

SHIPPING_DELAY = Script(
    topic="shipping_delay",
    modes=("public", "dm", "email"),
    subjects=("Order {order} not delivered", "Where is my order {order}?"),
    threads=(
        (
            "order {order} shipped {days} days ago and tracking has said 'in transit' ever "
            "since. Any idea where it is?",
            "sorry for the wait. We've opened a claim with the courier for order {order} "
            "and will update you by tomorrow.",
            "Thanks. It's a birthday present though, so I'm a bit stressed.",
            "Good news: the courier found it at their {city} depot and will deliver it "
            "tomorrow. We've added a little extra to make up for it.",
            "It arrived! Thank you for actually chasing it.",
        ),
        (
            "still waiting for order {order} after {days} days. Stuck at customs again? "
            "This is the second time 😩",
            "we're sorry. Yes, it's held at customs: we sent them the missing invoice today "
            "and we'll cover any fee they ask you for.",
            "They just e-mailed me asking for £12. Not great.",
            "Please send us the receipt and we'll refund the £12 straight away.",
        ),
        (
            "ordered the {blend} for my café in {city} {days} days ago and we're almost "
            "out. Can you do anything?",
            "we understand, that's urgent. We're sending 2 kg by express courier today at "
            "no cost; keep the delayed parcel as stock.",
            "You're lifesavers. Thank you!",
        ),
    ),
    weight=3,
)

GRINDER_BROKEN = Script(
    topic="grinder_complaint",
    modes=("public", "dm", "email"),
    subjects=("Broken {grinder} grinder", "Complaint: grinder stopped working (order {order})"),
    threads=(
        (
            "the {grinder} grinder I bought from you two months ago just died: the motor "
            "spins but nothing gets ground. Not impressed for the price 😠",
            "we're really sorry. It's under warranty: can you send us your order number "
            "and a short video of the problem? We'll sort it out.",
            "Video sent. I hope this doesn't take weeks.",
            "Thanks for the video: it's the burr clutch, a known fault in that batch. A new "
            "{grinder} ships today and the courier will collect the broken one, all on us.",
            "The new one arrived and works fine. Fair enough.",
        ),
        (
            "second {grinder} in a year that jams. Every time I use the {blend} beans it "
            "stops. Is it the roast or the grinder?",
            "neither, luckily: the {blend} is a bit oily and that model needs its burrs "
            "cleaned every 2-3 weeks. We'll send you our illustrated cleaning guide.",
            "I already clean it and it still jams. I'd like a replacement.",
            "Fair point, then it's a fault. We'll replace it: you'll get an e-mail with a "
            "prepaid return label.",
        ),
        (
            "the {grinder} that arrived yesterday has a cracked hopper. Order {order}. Can "
            "you send a spare or do I return the whole thing?",
            "sorry about that: no need to send anything back, we'll ship a new hopper tomorrow.",
        ),
    ),
)

BLEND_PRAISE = Script(
    topic="praise",
    modes=("public", "blog"),
    subjects=("Well done!",),
    threads=(
        (
            "having the {blend} from my moka pot this morning and honestly it's the best "
            "coffee I've ever made at home. Chocolate, hazelnut, no bitterness ☕",
            "thank you, that made our day! We roast the {blend} slightly lighter with the "
            "moka pot in mind. How do you brew it?",
            "Hot water in the base, lowest flame, off the heat as soon as it gurgles. My "
            "Italian neighbour's trick.",
            "Your neighbour knows best: that's exactly the method we recommend.",
        ),
        (
            "a café near my office in {city} started serving your {blend}. I now walk the "
            "long way round every morning. Great stuff!",
            "what lovely news, thank you! Say hi to the barista from us.",
        ),
        (
            "gave my dad a box of the {blend}. He only ever drinks supermarket coffee. His "
            "verdict: 'that's actually good'. From him that's a standing ovation 😂",
            "from a tough critic that counts double! Thanks for choosing us for the gift.",
        ),
    ),
    weight=3,
)

WHOLESALE = Script(
    topic="wholesale",
    modes=("email", "dm"),
    subjects=("Wholesale coffee for {business}", "Trade price list?"),
    threads=(
        (
            "I run {business} in {city} and we're looking for a new roaster. We go through "
            "about {kg} kg a week. Do you supply cafés, and on what terms?",
            "yes, we supply about forty cafés and bakeries, some of them abroad. For {kg} "
            "kg a week we can offer the {blend} with tiered pricing and a grinder on loan. "
            "Shall we send you samples?",
            "Yes please. Could you also send a written price list?",
            "The samples leave tomorrow and the trade price list is on its way. Prices "
            "include barista training over video call and weekly shipping.",
            "Thanks, we'll taste them next week and get back to you.",
        ),
        (
            "we're a small chain of three shops in {city} and would like coffee under our "
            "own brand. Do you do private label, and what's the minimum order?",
            "we do, from 60 kg a month, with a custom blend. We'll send you a proposal with "
            "two roast profiles to try.",
        ),
        (
            "tried your {blend} at a trade fair and would love to serve it at our B&B near "
            "{city}. Do you sell 1 kg bags for hospitality?",
            "of course: 1 kg bags of beans, 15% off above 10 kg a month. Fancy a trial order?",
            "Yes, let's start with {kg} kg. How do I go about it?",
            "We've opened a trade account for you: the instructions are in the confirmation "
            "e-mail. Thanks for trusting us!",
        ),
    ),
)

THANKS = Script(
    topic="thanks",
    modes=("public", "email", "blog"),
    subjects=("Thank you!", "Thanks to your customer service"),
    threads=(
        (
            "just wanted to say thanks to {colleague} in customer service: endless patience "
            "with my messed-up order. That's how it's done 👏",
            "thank you, {colleague} is over the moon! We'll pass it on to the whole team.",
        ),
        (
            "the {blend} arrived and the smell when I opened the bag was unreal. And thanks "
            "for the handwritten note, what a lovely touch.",
            "thank you! We write them one by one on Fridays, after roasting.",
        ),
        (
            "thanks for replacing my grinder with no fuss at all. Customer for life.",
            "that's the least we could do! Thanks for your patience.",
        ),
    ),
)

BREWING = Script(
    topic="brewing_question",
    modes=("public", "blog"),
    subjects=("Brewing question",),
    threads=(
        (
            "beginner question: what grind size for the {blend} in a V60? Mine always "
            "tastes watery.",
            "if it's watery, grind finer, about like table salt, and use 15 g of coffee for "
            "250 ml of water at 93°C. Let us know how it goes!",
            "Tried it: so much better, I can finally taste the fruity notes.",
            "Brilliant! Next step: try pouring in three stages instead of all at once.",
        ),
        (
            "should coffee be kept in the fridge? My flatmate swears by it, I'm not so sure.",
            "better not: in the fridge it picks up moisture and smells. Airtight jar, dark "
            "cupboard, room temperature, and use it within a month of opening.",
            "Knew it! Forwarding this to my flatmate 😄",
        ),
        (
            "summer question: does the {blend} work for cold brew, or do I need a lighter roast?",
            "it works really well: with the {blend} cold brew comes out sweet and "
            "chocolatey. Coarse grind and 16 hours in the fridge.",
        ),
    ),
)

SUBSCRIPTION = Script(
    topic="subscription",
    modes=("email", "dm"),
    subjects=("My subscription", "Monthly {blend} subscription"),
    threads=(
        (
            "I have the monthly {blend} subscription. I'm away for all of August: can I "
            "skip that delivery?",
            "of course: in your account, under Subscription, you can pause deliveries. Or "
            "we can do it for you.",
            "Could you do it please? I always get lost in those menus.",
            "Done: August is paused, and we'll restart in September with the {blend} as usual.",
        ),
        (
            "I'd like to switch my subscription from the {blend} to decaf for a while.",
            "no problem: from your next delivery you'll get the Decaffeinato Notte, a "
            "water-process decaf with no solvents.",
        ),
        (
            "I've been charged twice for this month's subscription. Can you check?",
            "you're right, our payment system charged you twice by mistake. The refund is "
            "already on its way and will show on your card in 3-5 days.",
            "OK, I'll keep an eye out for the refund.",
        ),
    ),
    weight=1,
)

EN = Phrasebook(
    language="en",
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
        "Congratulations! You have been selected for a $500 gift card. Claim it now: "
        "gift-claim.example/win",
        "Buy cheap followers and likes, 100% real, instant delivery!!! DM for prices",
        "Hi, I can increase your website traffic by 300% with our guaranteed SEO package. "
        "Reply for a free audit.",
    ),
    first_names=(
        "Emma",
        "Oliver",
        "Charlotte",
        "James",
        "Amelia",
        "Harry",
        "Sophie",
        "Jack",
        "Grace",
        "Thomas",
        "Lucy",
        "William",
        "Hannah",
        "Daniel",
        "Chloe",
        "Samuel",
        "Megan",
        "Ryan",
        "Isla",
        "Ethan",
        "Niamh",
        "Liam",
        "Freya",
        "Aidan",
    ),
    last_names=(
        "Smith",
        "Jones",
        "Taylor",
        "Brown",
        "Williams",
        "Wilson",
        "Johnson",
        "Davies",
        "Evans",
        "Walker",
        "Wright",
        "Thompson",
        "Murphy",
        "O'Brien",
        "Hughes",
        "Clarke",
        "Kelly",
        "Mitchell",
        "Fischer",
        "de Vries",
        "Hansen",
        "Schmidt",
    ),
    cities=(
        "London",
        "Manchester",
        "Dublin",
        "Berlin",
        "Amsterdam",
        "Edinburgh",
        "Vienna",
        "Brighton",
        "Copenhagen",
        "Bristol",
    ),
    businesses=(
        "The Copper Kettle",
        "Little Brew Co.",
        "Harbour Street Café",
        "Northside Deli",
        "Grain & Bean",
        "The Corner Bakery",
    ),
    brand_greetings=("Hi {first},", "Hello {first},", "Hey {first},"),
    brand_signoffs=("Best wishes,", "Kind regards,", "All the best,"),
    customer_greetings=("Hello,", "Hi there,", "Dear Caffè Aurora team,", "Hi,"),
    customer_signoffs=("Thanks,", "Best regards,", "Kind regards,", "Cheers,"),
    reply_greetings=("Hi {agent},", "Dear {agent},", "Hello {agent},"),
    blog_posts=(
        ("How we roast the Vulcano Nero", "how-we-roast-vulcano-nero"),
        ("Moka pot or V60: which one is for you?", "moka-pot-or-v60"),
        ("Cold brew at home in five steps", "cold-brew-at-home"),
    ),
    bios=(
        "Coffee nerd. Runner. Dad.",
        "Barista in {city}.",
        "Specialty coffee & good books.",
        "Home roaster, V60 fan.",
        "Product designer. Views my own.",
        "Tea drinker converted to espresso.",
        "Travel, food, photography.",
        "Teacher in {city}.",
        "Baker by day, reader by night.",
        "Just here for the coffee.",
    ),
    mail_domains=("gmail.com", "outlook.com", "yahoo.co.uk", "proton.me", "icloud.com"),
)
