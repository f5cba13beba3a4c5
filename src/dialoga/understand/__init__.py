"""Understanding messages: language, sentiment, intent and spam, offline, in Italian and English."""
