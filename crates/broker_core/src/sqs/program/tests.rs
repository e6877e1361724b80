use super::*;

#[test]
fn errors_name_line_and_column() {
    let e = parse("import boto3\nsqs = boto3.client(\"sqs\")\nsqs.create_queue(Name=\"x\")\n").unwrap_err();
    assert_eq!(
        e.located("p.sqs"),
        "p.sqs:3:18: Unknown parameter in input: \"Name\", must be one of: QueueName, Attributes, tags"
    );
    let e = parse("sqs.send_message(QueueUrl=url, MessageBody=\"x\")").unwrap_err();
    assert_eq!((e.line, e.col, e.message.as_str()), (1, 27, "name 'url' is not defined"));
    let e = parse("sqs.receive_message()").unwrap_err();
    assert_eq!(e.message, "Missing required parameter in input: \"QueueUrl\"");
    let e = parse("x = sqs.get_queue_url(QueueName='a'\n").unwrap_err();
    assert_eq!(e.message, "unexpected end of program: a bracket is not closed");
    let e = parse("sqs.purge_queue(QueueUrl='a') extra").unwrap_err();
    assert_eq!((e.col, e.message.as_str()), (31, "expected the end of the statement, found 'extra'"));
    assert!(parse("sqs.nope()").unwrap_err().message.starts_with("'SQS' object has no attribute 'nope'"));
    assert!(parse("time.sleep(-1)").is_err());
    assert!(parse(&"[".repeat(40)).is_err());
}

#[test]
fn python_repr_of_replies() {
    let v = Py::Dict(vec![
        ("a".into(), Py::Str("it's".into())),
        ("b".into(), Py::List(vec![Py::Int(1), Py::Bool(true), Py::None])),
        ("c".into(), Py::Bytes(b"x\x00".to_vec())),
        ("d".into(), Py::Str("say \"hi\"\n".into())),
    ]);
    assert_eq!(v.repr(), r#"{'a': "it's", 'b': [1, True, None], 'c': b'x\x00', 'd': 'say "hi"\n'}"#);
}

#[test]
fn a_session_prints_replies_and_exceptions() {
    let program = parse(
        "url = sqs.create_queue(QueueName='q')['QueueUrl']\n\
         sqs.get_queue_url(QueueName='missing')\n\
         sqs.send_message(QueueUrl=url,\n    MessageBody='abc')\n\
         time.sleep(1.5)\n\
         r = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)\n\
         r['Messages'][0]['Body']\n\
         sqs.receive_message(QueueUrl=url, MaxNumberOfMessages='5')\n",
    )
    .unwrap();
    let t = run(&program, 1).text();
    let expected = "\
>>> url = sqs.create_queue(QueueName='q')['QueueUrl']
{'QueueUrl': 'https://sqs.us-east-1.amazonaws.com/123456789012/q'}
>>> sqs.get_queue_url(QueueName='missing')
botocore.errorfactory.QueueDoesNotExist: An error occurred (AWS.SimpleQueueService.NonExistentQueue) when calling the GetQueueUrl operation: The specified queue does not exist.
>>> sqs.send_message(QueueUrl=url, MessageBody='abc')
";
    assert!(t.starts_with(expected), "{t}");
    assert!(t.contains("'MD5OfMessageBody': '900150983cd24fb0d6963f7d28e17f72'"), "{t}");
    assert!(t.contains("# t=1.500s\n"), "{t}");
    assert!(t.contains(">>> r['Messages'][0]['Body']\n'abc'\n"), "{t}");
    assert!(t.ends_with(
        "botocore.exceptions.ParamValidationError: Parameter validation failed:\nInvalid type for parameter MaxNumberOfMessages, value: '5', type: <class 'str'>, valid types: <class 'int'>\n"
    ), "{t}");
}
