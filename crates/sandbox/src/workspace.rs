//! One workspace's data: its chatbots, their responses and its webhooks.
//!
//! Ids are looked up case-insensitively (the core accepts upper-case hex) and
//! only within the workspace, so another workspace's id is simply not found.

use std::collections::HashMap;

use conferbot::{Chatbot, ChatbotResponse, Webhook, WebhookEvent};

use crate::seed::ResponseSeed;

/// A chatbot with its responses: generated from a seed until something
/// changes them, stored from then on.
#[derive(Debug, Clone, PartialEq)]
pub struct SeededChatbot {
    /// The chatbot; its `response_count` equals the number of its responses.
    pub chatbot: Chatbot,
    seed: ResponseSeed,
    stored: Option<Vec<ChatbotResponse>>,
}

impl SeededChatbot {
    /// `chatbot`, whose responses `seed` generates.
    pub fn new(chatbot: Chatbot, seed: ResponseSeed) -> Self {
        Self {
            chatbot,
            seed,
            stored: None,
        }
    }

    /// Its responses, newest first.
    pub fn responses(&self) -> Vec<ChatbotResponse> {
        match &self.stored {
            Some(stored) => stored.clone(),
            None => self.seed.generate(&self.chatbot.id),
        }
    }

    /// Its responses, stored so they can change.
    fn responses_mut(&mut self) -> &mut Vec<ChatbotResponse> {
        let (seed, id) = (self.seed, &self.chatbot.id);
        self.stored.get_or_insert_with(|| seed.generate(id))
    }
}

/// The data behind one API key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Workspace {
    chatbots: Vec<SeededChatbot>,
    index: HashMap<String, usize>,
    webhooks: Vec<Webhook>,
}

impl Workspace {
    /// A workspace holding `chatbots`, in listing order.
    pub fn new(chatbots: Vec<SeededChatbot>) -> Self {
        let index = chatbots
            .iter()
            .enumerate()
            .map(|(i, c)| (c.chatbot.id.to_ascii_lowercase(), i))
            .collect();
        Self {
            chatbots,
            index,
            webhooks: Vec::new(),
        }
    }

    /// How many chatbots it has.
    pub fn chatbot_count(&self) -> usize {
        self.chatbots.len()
    }

    /// Chatbots `range` of the listing (empty past the end).
    pub fn chatbots(&self, range: std::ops::Range<usize>) -> Vec<Chatbot> {
        self.chatbots
            .get(range)
            .unwrap_or_default()
            .iter()
            .map(|c| c.chatbot.clone())
            .collect()
    }

    /// The chatbot with `id`.
    pub fn chatbot(&self, id: &str) -> Option<&Chatbot> {
        self.seeded(id).map(|c| &c.chatbot)
    }

    /// The responses of chatbot `id`, newest first.
    pub fn responses(&self, id: &str) -> Option<Vec<ChatbotResponse>> {
        self.seeded(id).map(SeededChatbot::responses)
    }

    fn seeded(&self, id: &str) -> Option<&SeededChatbot> {
        let i = *self.index.get(&id.to_ascii_lowercase())?;
        self.chatbots.get(i)
    }

    fn seeded_mut(&mut self, id: &str) -> Option<&mut SeededChatbot> {
        let i = *self.index.get(&id.to_ascii_lowercase())?;
        self.chatbots.get_mut(i)
    }

    /// The first chatbot of the listing, the admin routes' default.
    pub fn first_chatbot_id(&self) -> Option<String> {
        self.chatbots.first().map(|c| c.chatbot.id.clone())
    }

    /// Stores a new response of its chatbot: it goes first, and the chatbot's
    /// `responseCount` and `updatedAt` follow. `None` if the chatbot is unknown.
    pub fn add_response(&mut self, response: ChatbotResponse) -> Option<()> {
        let seeded = self.seeded_mut(&response.chatbot_id)?;
        seeded.chatbot.updated_at = response.updated_at.clone();
        let responses = seeded.responses_mut();
        responses.insert(0, response);
        seeded.chatbot.response_count = responses.len() as u64;
        Some(())
    }

    /// Marks the newest response of chatbot `id` completed at `now_iso`.
    /// `None` if the chatbot is unknown or has no responses.
    pub fn update_newest_response(&mut self, id: &str, now_iso: &str) -> Option<ChatbotResponse> {
        let seeded = self.seeded_mut(id)?;
        let response = seeded.responses_mut().first_mut()?;
        response.status = "completed".to_owned();
        response.updated_at = now_iso.to_owned();
        let updated = response.clone();
        seeded.chatbot.updated_at = now_iso.to_owned();
        Some(updated)
    }

    /// Its webhooks, secrets included (strip them before answering a list).
    pub fn webhooks(&self) -> &[Webhook] {
        &self.webhooks
    }

    /// Webhooks that want `event` delivered.
    pub fn subscribers(&self, event: &WebhookEvent) -> Vec<Webhook> {
        self.webhooks
            .iter()
            .filter(|w| w.active && w.events.contains(event))
            .cloned()
            .collect()
    }

    /// Registers `webhook`.
    pub fn add_webhook(&mut self, webhook: Webhook) {
        self.webhooks.push(webhook);
    }

    /// Removes webhook `id`; false if this workspace has no such webhook.
    pub fn remove_webhook(&mut self, id: &str) -> bool {
        let before = self.webhooks.len();
        self.webhooks.retain(|w| !w.id.eq_ignore_ascii_case(id));
        self.webhooks.len() != before
    }
}
