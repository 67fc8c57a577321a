/* replaced by the codec */ int stun_placeholder(void); int stun_placeholder(void) { return 0; }
