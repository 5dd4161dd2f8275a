-- limits: values quoted in error messages, memory caps, interrupts and the
-- cost of large inputs.  Sizes are chosen so that 1.1 ran far past
-- statement_timeout or far past 1 GB; results are asserted, never timings.

-- Every value an error message of the C functions quotes is clipped like
-- train_data.clip_for_message: 64 characters, then "...".
SELECT public.expect_error(format($$SELECT train_data.render_template('x', NULL, '[{"name": "%s", "type": "bad"}]')$$,
                                  repeat('é', 70)));
SELECT public.expect_error(format($$SELECT train_data.check_template('{{ %s + 1 }}', NULL)$$, repeat('a', 70)));
SELECT public.expect_error(format($$SELECT train_data.parse_generation_response('{"turns": [{"role": "%s", "content": "x"}, {"role": "user", "content": "y"}]}')$$,
                                  repeat('r', 100)));
SELECT public.expect_error(format($$SELECT train_data.parse_generation_response('{"type": "error", "error": {"type": "%s", "message": "%s"}}')$$,
                                  repeat('t', 65), repeat('m', 500)), true);
SELECT char_length(train_data.clip_for_message(repeat('é', 70))) AS sql_clip_length;
